/**
 * nginx.conf for Nextcloud's php-fpm image, following the current upstream recipe
 * (Nextcloud admin manual, "NGINX configuration"), adapted to run unprivileged in a pod.
 * Pure: the same options always give the same text.
 */
export interface NginxConfOptions {
  /**
   * The HTTP port nginx listens on inside the pod: the port the family uses, so that Nextcloud's own
   * requests to its public address (setup checks, overwrite.cli.url) reach it from inside the pod.
   */
  readonly listenPort: number;
  /** The HTTPS port inside the pod; also the family's, for the same reason. */
  readonly httpsPort: number;
  /** The server's key and certificate in one PEM file, replaced whole on renewal (issue-certificate.php). */
  readonly tlsFile: string;
  /** Folder of the welcome page (index.html, the CA's .crt and iOS profile), served on HTTP too. */
  readonly welcomeDir: string;
  /** Where php-fpm listens; same pod, so loopback. */
  readonly phpFpm: string;
  /** The Nextcloud web root, shared with the php-fpm container. */
  readonly webRoot: string;
  /** client_max_body_size in bytes; follows PHP's upload limit. */
  readonly maxBodyBytes: number;
  /** Writable directory for the pid file and nginx's temporary files. */
  readonly tempDir: string;
  /**
   * How much of one PHP response nginx may hold in a temporary file, so that PHP's worker is
   * free while a slow phone receives it (0: none, PHP waits for the phone).
   */
  readonly responseBufferBytes: number;
  /** Client Push's port on the pod's loopback (client-push.ts), proxied at /push/; none: no /push/. */
  readonly pushPort?: number;
}

/**
 * Types served, rendered into the config rather than taken from the image's mime.types:
 * the stock file lacks `.mjs` (Nextcloud ≥ 28 serves its JavaScript as modules) and differs
 * between nginx versions. Extensions nginx does not find here are served as octet-stream.
 */
export const MIME_TYPES: Record<string, string[]> = {
  'text/html': ['html', 'htm'],
  'text/css': ['css'],
  'text/javascript': ['js', 'mjs'],
  'text/plain': ['txt'],
  'text/xml': ['xml'],
  'application/json': ['json', 'map'],
  'application/manifest+json': ['webmanifest'],
  'application/wasm': ['wasm'],
  'application/pdf': ['pdf'],
  'application/octet-stream': ['tflite', 'bin'],
  'image/svg+xml': ['svg', 'svgz'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/webp': ['webp'],
  'image/x-icon': ['ico'],
  'font/woff': ['woff'],
  'font/woff2': ['woff2'],
  'font/otf': ['otf'],
  'font/ttf': ['ttf'],
  'audio/ogg': ['ogg'],
  'audio/flac': ['flac'],
  'video/mp4': ['mp4'],
  'video/webm': ['webm'],
};

/** Static assets served straight from disk with a long cache lifetime (upstream's list). */
export const STATIC_EXTENSIONS = ['css', 'js', 'mjs', 'svg', 'gif', 'ico', 'jpg', 'png', 'webp', 'wasm', 'tflite', 'map', 'ogg', 'flac', 'mp4', 'webm'];

/**
 * Headers Nextcloud's setup checks look for. add_header in a location replaces the server's
 * set, so every location that adds a header repeats these (via the same rendered lines).
 * X-XSS-Protection is left out: browsers removed the filter and Nextcloud ≥ 32 no longer asks for it.
 */
export const SECURITY_HEADERS: Array<[string, string]> = [
  ['Referrer-Policy', 'no-referrer'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-Robots-Tag', 'noindex, nofollow'],
];

/** Where the welcome page answers, on HTTP and HTTPS: the one page a phone can open before it trusts the home CA. */
export const WELCOME_PATH = '/welcome/';

/** Files of the welcome folder with the types phones need to offer to install them. */
export const WELCOME_TYPES: Record<string, string> = {
  // Android, Windows and iOS offer a certificate install for this type.
  crt: 'application/x-x509-ca-cert',
  // iOS opens a configuration profile only with this type.
  mobileconfig: 'application/x-apple-aspen-config',
  html: 'text/html',
};

/**
 * HSTS, HTTPS only: 180 days, the least Nextcloud's setup check accepts. Not includeSubDomains
 * (the home's names are not a domain it owns) and not preload (no public domain).
 */
export const HSTS_SECONDS = 15552000;

/**
 * TLS settings: Mozilla's "intermediate" profile (Server Side TLS guideline 5.7, for nginx):
 * TLS 1.2 and 1.3, forward-secret AEAD ciphers, the client's cipher preference, no session
 * tickets. The DHE suites of the profile are left out: the certificate is ECDSA, so they could
 * never be chosen (and need a dhparam file).
 */
export const TLS_PROTOCOLS = ['TLSv1.2', 'TLSv1.3'];
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
];

/** Answered by nginx itself: the web container's liveness probe checks nginx and nothing behind it. */
export const NGINX_ALIVE_PATH = '/homecloud-nginx-alive';

/** Paths under the web root that must never be served (code, config, data). */
export const FORBIDDEN_PATHS = '^/(?:build|tests|config|lib|3rdparty|templates|data)(?:$|/)';
/** Dotfiles, the CLI entry points and test tooling. */
export const FORBIDDEN_PREFIXES = '^/(?:\\.|autotest|occ|issue|indie|db_|console)';

/** The security headers (and HSTS: HTTPS only) at an indent, wherever a block adds headers of its own. */
function headers(indent: string): string {
  return [...SECURITY_HEADERS, ['Strict-Transport-Security', `max-age=${HSTS_SECONDS}`]]
    .map(([k, v]) => `${indent}add_header ${k} "${v}" always;`).join('\n');
}

/** The welcome page's locations (the home CA and how to trust it), in the plain or the HTTPS server. */
function welcome(o: NginxConfOptions, tls: boolean): string {
  const welcomeTypes = Object.entries(WELCOME_TYPES).map(([ext, t]) => `${t} ${ext};`).join(' ');
  return `
        location = ${WELCOME_PATH.replace(/\/$/, '')} { return 301 ${WELCOME_PATH}; }
        location ^~ ${WELCOME_PATH} {
            alias ${o.welcomeDir}/;
            index index.html;
            types { ${welcomeTypes} }
            default_type application/octet-stream;
            # Always the current CA and page: never from a phone's cache.
            add_header Cache-Control "no-store" always;
${tls ? headers('            ') : '            add_header X-Content-Type-Options "nosniff" always;'}
        }
`;
}

export function renderNginxConf(o: NginxConfOptions): string {
  return globalSettings(o) + plainServer(o) + httpsServerSettings(o) + httpsLocations(o) + phpAndAssets(o);
}

/** The process, MIME types, temp paths under tempDir, logs, keep-alive and the PHP upstream. */
function globalSettings(o: NginxConfOptions): string {
  const types = Object.entries(MIME_TYPES).map(([t, exts]) => `        ${t} ${exts.join(' ')};`).join('\n');
  const t = o.tempDir;
  return `# Rendered by homecloud (lib/nextcloud/nginx-conf.ts). Edit the renderer, not this file.
# Runs as an unprivileged user: no "user" directive, pid and temp files under ${t}.
worker_processes 2;
pid ${t}/nginx.pid;
error_log /dev/stderr warn;
daemon off;

events {
    worker_connections 1024;
}

http {
    types {
${types}
    }
    default_type application/octet-stream;

    client_body_temp_path ${t}/client_temp;
    proxy_temp_path ${t}/proxy_temp;
    fastcgi_temp_path ${t}/fastcgi_temp;
    uwsgi_temp_path ${t}/uwsgi_temp;
    scgi_temp_path ${t}/scgi_temp;

    log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log /dev/stdout main;
    sendfile on;
    tcp_nopush on;
    # Static assets are read on every page load: keep their descriptors and metadata open
    # instead of opening and stat-ing each file per request. A changed file is noticed within 30 s.
    open_file_cache max=2000 inactive=60s;
    open_file_cache_valid 30s;
    open_file_cache_errors on;
    keepalive_timeout 65;
    # A phone syncing a photo library makes thousands of requests on one connection; with the
    # default 1000 each connection would end and (on HTTPS) pay a new handshake that often.
    keepalive_requests 10000;
    server_tokens off;

    upstream php-handler {
        server ${o.phpFpm};
    }

    # Versioned assets (?v=...) never change: let browsers keep them.
    map $arg_v $asset_immutable {
        "" "";
        default ", immutable";
    }

`;
}

function plainServer(o: NginxConfOptions): string {
  const httpsSuffix = o.httpsPort === 443 ? '' : `:${o.httpsPort}`;
  return `    # Plain HTTP: the welcome page (how a phone gets the home CA before it trusts anything)
    # and nginx's liveness answer; everything else moves to HTTPS.
    server {
        listen ${o.listenPort} default_server;
        server_name _;
        absolute_redirect off;

        location = ${NGINX_ALIVE_PATH} {
            access_log off;
            default_type text/plain;
            return 200 "alive\n";
        }
${welcome(o, false)}
        # GET and HEAD move with 301; other methods (a WebDAV or CalDAV client set up on HTTP)
        # with 308, which keeps the method and body for a client that follows it.
        location / {
            if ($request_method !~ ^(?:GET|HEAD)$) {
                return 308 https://$host${httpsSuffix}$request_uri;
            }
            return 301 https://$host${httpsSuffix}$request_uri;
        }
    }

`;
}

/** TLS, request bodies, compression, headers and the web root of the HTTPS server. */
function httpsServerSettings(o: NginxConfOptions): string {
  return `    server {
        listen ${o.httpsPort} ssl default_server;
        http2 on;
        server_name _;
        ssl_certificate ${o.tlsFile};
        ssl_certificate_key ${o.tlsFile};
        ssl_protocols ${TLS_PROTOCOLS.join(' ')};
        ssl_ciphers ${TLS_CIPHERS.join(':')};
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:homecloud_tls:10m;
        ssl_session_timeout 1d;
        ssl_session_tickets off;
        # Redirects keep the scheme, host and port the browser used: people may reach nginx
        # through a port-forward or another published port, and an absolute redirect would
        # name nginx's own port instead.
        absolute_redirect off;

        # Uploads: the limit follows PHP's; bodies are buffered whole (php-fpm cannot take
        # chunked request bodies: unbuffered they arrived as 0-byte files).
        client_max_body_size ${o.maxBodyBytes};
        client_body_timeout 300s;
        client_body_buffer_size 512k;
        fastcgi_buffers 64 4K;

        gzip on;
        gzip_vary on;
        gzip_comp_level 4;
        gzip_min_length 256;
        gzip_proxied expired no-cache no-store private no_last_modified no_etag auth;
        gzip_types application/atom+xml text/javascript application/javascript application/json application/ld+json application/manifest+json application/rss+xml application/vnd.geo+json application/vnd.ms-fontobject application/wasm application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/bmp image/svg+xml image/x-icon text/cache-manifest text/css text/plain text/vcard text/vnd.rim.location.xloc text/vtt text/x-component text/x-cross-domain-policy;

${headers('        ')}

        fastcgi_hide_header X-Powered-By;

        root ${o.webRoot};
        index index.php index.html /index.php$request_uri;

`;
}

/** Redirects, the well-known paths, nginx's liveness answer, the welcome page and what is never served. */
function httpsLocations(o: NginxConfOptions): string {
  return `        # Windows' WebDAV client asks for / first.
        location = / {
            if ( $http_user_agent ~ ^DavClnt ) {
                return 302 /remote.php/webdav/$is_args$args;
            }
        }

        location = /robots.txt {
            allow all;
            log_not_found off;
            access_log off;
        }

        # Relative redirects: they stay right behind a port-forward or a non-default port.
        location ^~ /.well-known {
            location = /.well-known/carddav { return 301 /remote.php/dav/; }
            location = /.well-known/caldav  { return 301 /remote.php/dav/; }
            location /.well-known/acme-challenge { try_files $uri $uri/ =404; }
            location /.well-known/pki-validation { try_files $uri $uri/ =404; }
            return 301 /index.php$request_uri;
        }

        location = ${NGINX_ALIVE_PATH} {
            access_log off;
            default_type text/plain;
            return 200 "alive\n";
        }
${welcome(o, true)}${push(o)}
        location ~ ${FORBIDDEN_PATHS} { return 404; }
        location ~ ${FORBIDDEN_PREFIXES} { return 404; }

`;
}

/**
 * Client Push (notify_push beside php-fpm): the apps' WebSockets, upgraded and held open. Its
 * answers are tiny events, passed on at once (no buffering). An hour without a frame ends the
 * connection; the apps reconnect, as they do after any network change.
 */
function push(o: NginxConfOptions): string {
  if (o.pushPort === undefined) return '';
  return `
        location ^~ /push/ {
            proxy_pass http://127.0.0.1:${o.pushPort}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "Upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }
`;
}

/** PHP through php-fpm (buffered both ways), static assets and fonts, and the fallbacks. */
function phpAndAssets(o: NginxConfOptions): string {
  return `        location ~ \\.php(?:$|/) {
            # Only Nextcloud's front controllers run directly; any other .php goes through index.php.
            rewrite ^/(?!index|remote|public|cron|core\\/ajax\\/update|status|ocs\\/v[12]|updater\\/.+|ocs-provider\\/.+|.+\\/richdocumentscode(_arm64)?\\/proxy) /index.php$request_uri;

            fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
            set $path_info $fastcgi_path_info;
            try_files $fastcgi_script_name =404;

            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param PATH_INFO $path_info;
            fastcgi_param HTTPS on;
            fastcgi_param modHeadersAvailable true;
            fastcgi_param front_controller_active true;
            fastcgi_pass php-handler;

            fastcgi_intercept_errors on;
            fastcgi_request_buffering on;
            # Responses are buffered too, up to this much on disk per response: PHP writes a
            # download at disk speed and its worker is free again, however slowly the phone
            # reads. Without it (Nextcloud's recipe says 0) two slow downloads held both PHP
            # workers and every other request waited. Longer responses pass the rest through
            # as the client reads; Range requests are separate, shorter responses.
            fastcgi_buffering on;
            fastcgi_max_temp_file_size ${o.responseBufferBytes};
            fastcgi_read_timeout 3600s;
        }

        location ~ \\.(?:${STATIC_EXTENSIONS.join('|')})$ {
            try_files $uri /index.php$request_uri;
            add_header Cache-Control "public, max-age=15778463$asset_immutable";
${headers('            ')}
            access_log off;
        }

        location ~ \\.(?:otf|woff2?)$ {
            try_files $uri /index.php$request_uri;
            expires 7d;
            access_log off;
        }

        location /remote {
            return 301 /remote.php$request_uri;
        }

        location / {
            try_files $uri $uri/ /index.php$request_uri;
        }
    }
}
`;
}
