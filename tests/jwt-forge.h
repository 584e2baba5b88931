/* SPDX-License-Identifier: MIT */
/* Build JWTs by hand (OpenSSL HMAC, no libjwt), to test the verifier with
 * tokens it did not make: alg:none, other algorithms, float exp, tampering. */
#pragma once

/* alg: "HS256", "HS384", "HS512" or "none" (empty signature). Returns malloc'd token. */
char *jwt_forge(const char *header_json, const char *payload_json, const char *alg,
    const char *key);
