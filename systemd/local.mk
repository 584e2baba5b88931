# systemd units, sysusers/tmpfiles snippets and the example configuration.
systemdunitdir = $(systemdsystemunitdir)
systemdunit_DATA = systemd/mc-admin-api.socket systemd/mc-admin-api.service \
	systemd/mc-admin-secrets.service
# the WebSocket daemon (issue #4)
systemdunit_DATA += systemd/mc-admin-ws.socket systemd/mc-admin-ws.service
CLEANFILES += systemd/mc-admin-ws.service
EXTRA_DIST += systemd/mc-admin-ws.socket systemd/mc-admin-ws.service.in
systemd/mc-admin-ws.service: $(srcdir)/systemd/mc-admin-ws.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(subst_paths) $(srcdir)/systemd/mc-admin-ws.service.in > $@.tmp && mv $@.tmp $@
sysusersdir = $(prefix)/lib/sysusers.d
tmpfilesdir = $(prefix)/lib/tmpfiles.d
mcadminconfdir = $(sysconfdir)/mc-admin
mcadminconf_DATA = systemd/config.yaml

CLEANFILES += systemd/mc-admin-api.service systemd/mc-admin-secrets.service
EXTRA_DIST += systemd/mc-admin-api.socket systemd/mc-admin-api.service.in \
	systemd/mc-admin-secrets.service.in systemd/mc-admin.sysusers systemd/mc-admin.tmpfiles \
	systemd/config.yaml

# unit files get the configured paths
subst_paths = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@datadir[@]|$(datadir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'
systemd/mc-admin-api.service: $(srcdir)/systemd/mc-admin-api.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(subst_paths) $(srcdir)/systemd/mc-admin-api.service.in > $@.tmp && mv $@.tmp $@
systemd/mc-admin-secrets.service: $(srcdir)/systemd/mc-admin-secrets.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(subst_paths) $(srcdir)/systemd/mc-admin-secrets.service.in > $@.tmp && mv $@.tmp $@

install-data-local: install-sysusers-tmpfiles
uninstall-local: uninstall-sysusers-tmpfiles
install-sysusers-tmpfiles:
	$(MKDIR_P) $(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir)
	$(INSTALL_DATA) $(srcdir)/systemd/mc-admin.sysusers $(DESTDIR)$(sysusersdir)/mc-admin.conf
	$(INSTALL_DATA) $(srcdir)/systemd/mc-admin.tmpfiles $(DESTDIR)$(tmpfilesdir)/mc-admin.conf
uninstall-sysusers-tmpfiles:
	rm -f $(DESTDIR)$(sysusersdir)/mc-admin.conf $(DESTDIR)$(tmpfilesdir)/mc-admin.conf
.PHONY: install-sysusers-tmpfiles uninstall-sysusers-tmpfiles
