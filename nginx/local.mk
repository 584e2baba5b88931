# nginx site for production (the development stack fills the same template
# itself, see contrib/dev/stack.sh), and the placeholder web root.
nginxdir = $(datadir)/mc-admin/nginx
nginx_DATA = nginx/mc-admin.conf
dist_nginx_DATA = nginx/mc-admin-fastcgi.conf nginx/mc-admin-websocket.conf
webdir = $(datadir)/mc-admin/web
dist_web_DATA = contrib/web/index.html contrib/web/robots.txt
webstaticdir = $(webdir)/static
dist_webstatic_DATA = contrib/web/static/placeholder.css
webassetsdir = $(webdir)/assets
dist_webassets_DATA = contrib/web/assets/placeholder.css

CLEANFILES += nginx/mc-admin.conf
EXTRA_DIST += nginx/mc-admin-site.conf.in

nginx/mc-admin.conf: $(srcdir)/nginx/mc-admin-site.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) nginx && sed \
		-e 's|@LISTEN[@]|80|' \
		-e 's|@WEB_ROOT[@]|$(webdir)|' \
		-e 's|@API_SOCKET[@]|/run/mc-admin/api.sock|' \
		-e 's|@WS_SOCKET[@]|/run/mc-admin/ws.sock|' \
		-e 's|@NGINX_CONF_DIR[@]|$(nginxdir)|' \
		-e 's|@SERVER_PATH[@]|/srv/mc-admin/servers|' \
		-e 's|@ARCHIVE_PATH[@]|/srv/mc-admin/archives|' \
		$(srcdir)/nginx/mc-admin-site.conf.in > $@.tmp && mv $@.tmp $@
