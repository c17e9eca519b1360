/**
 * Deterministic log generators for the filter benchmark: an sshd auth.log
 * and a web-server log mixing Apache access and error lines with nginx
 * error lines. Addresses are from the documentation ranges.
 */

/** A small seeded PRNG (mulberry32), so every run benchmarks the same text. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USERS = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'git', 'postgres', 'user', 'pi', 'deploy', 'ftpuser', 'guest'];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function address(r: () => number): string {
  const x = r();
  if (x < 0.8) return `${pick(r, ['192.0.2', '198.51.100', '203.0.113'])}.${1 + Math.floor(r() * 254)}`;
  return `2001:db8:${Math.floor(r() * 0xffff).toString(16)}::${(1 + Math.floor(r() * 0xfffe)).toString(16)}`;
}

function syslogTime(second: number): string {
  const d = new Date(Date.UTC(2025, 0, 1) + second * 1000);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const hms = d.toISOString().slice(11, 19);
  return `${MONTHS[d.getUTCMonth()]} ${day} ${hms}`;
}

/** An sshd auth.log: failures of every common kind among accepted logins and other daemons' lines. */
export function authLog(lines: number, seed = 1): string {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const t = syslogTime(Math.floor(i / 3));
    const pid = 1000 + Math.floor(r() * 60000);
    const ip = address(r);
    const port = 1024 + Math.floor(r() * 60000);
    const user = pick(r, USERS);
    const x = r();
    let msg: string;
    if (x < 0.22) msg = `sshd[${pid}]: Failed password for ${user} from ${ip} port ${port} ssh2`;
    else if (x < 0.4) msg = `sshd[${pid}]: Failed password for invalid user ${user}${Math.floor(r() * 100)} from ${ip} port ${port} ssh2`;
    else if (x < 0.52) msg = `sshd[${pid}]: Invalid user ${user} from ${ip} port ${port}`;
    else if (x < 0.6) msg = `sshd[${pid}]: Connection closed by authenticating user ${user} ${ip} port ${port} [preauth]`;
    else if (x < 0.66) msg = `sshd[${pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=${user}`;
    else if (x < 0.72) msg = `sshd[${pid}]: Received disconnect from ${ip} port ${port}:11: Bye Bye [preauth]`;
    else if (x < 0.78) msg = `sshd[${pid}]: Disconnected from invalid user ${user} ${ip} port ${port} [preauth]`;
    else if (x < 0.84) msg = `sshd[${pid}]: Accepted publickey for deploy from ${ip} port ${port} ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA`;
    else if (x < 0.9) msg = `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`;
    else if (x < 0.95) msg = `systemd-logind[${pid}]: New session ${Math.floor(r() * 9999)} of user deploy.`;
    else msg = `sshd[${pid}]: maximum authentication attempts exceeded for ${user} from ${ip} port ${port} ssh2 [preauth]`;
    out.push(`${t} web1 ${msg}`);
  }
  return `${out.join('\n')}\n`;
}

/** Apache access and error lines with nginx error lines, interleaved. */
export function webLog(lines: number, seed = 2): string {
  const r = rng(seed);
  const out: string[] = [];
  const paths = ['/', '/index.html', '/wp-login.php', '/admin/', '/api/v1/items?id=42', '/static/app.js', '/phpmyadmin/index.php'];
  const agents = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'Googlebot/2.1 (+http://www.google.com/bot.html)'];
  for (let i = 0; i < lines; i++) {
    const second = Math.floor(i / 4);
    const d = new Date(Date.UTC(2025, 0, 1) + second * 1000);
    const ip = address(r);
    const user = pick(r, USERS);
    const x = r();
    if (x < 0.45) {
      const stamp = `${String(d.getUTCDate()).padStart(2, '0')}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
      const status = pick(r, [200, 200, 200, 301, 304, 401, 403, 404]);
      out.push(`${ip} - ${status === 401 ? user : '-'} [${stamp}] "GET ${pick(r, paths)} HTTP/1.1" ${status} ${Math.floor(r() * 50000)} "-" "${pick(r, agents)}"`);
    } else if (x < 0.8) {
      const stamp = `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.toISOString().slice(11, 19)}.${String(Math.floor(r() * 999999)).padStart(6, '0')} ${d.getUTCFullYear()}`;
      const pid = 1000 + Math.floor(r() * 30000);
      const port = 1024 + Math.floor(r() * 60000);
      const client = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
      const y = r();
      let msg: string;
      if (y < 0.35) msg = `[auth_basic:error] [pid ${pid}:tid ${pid + 1}] [client ${client}] AH01618: user ${user} not found: /admin/`;
      else if (y < 0.7) msg = `[auth_basic:error] [pid ${pid}:tid ${pid + 1}] [client ${client}] AH01617: user ${user}: authentication failure for "/admin/": Password Mismatch`;
      else if (y < 0.85) msg = `[core:error] [pid ${pid}:tid ${pid + 1}] [client ${client}] AH00128: File does not exist: /var/www/html/wp-login.php`;
      else msg = `[mpm_event:notice] [pid ${pid}:tid ${pid + 1}] AH00489: Apache/2.4.57 (Debian) configured -- resuming normal operations`;
      out.push(`[${stamp}] ${msg}`);
    } else {
      const stamp = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')} ${d.toISOString().slice(11, 19)}`;
      const y = r();
      if (y < 0.6) {
        out.push(`${stamp} [error] ${Math.floor(r() * 9999)}#0: *${i} user "${user}" was not found in "/etc/nginx/.htpasswd", client: ${ip}, server: example.test, request: "GET /admin/ HTTP/1.1", host: "example.test"`);
      } else {
        out.push(`${stamp} [error] ${Math.floor(r() * 9999)}#0: *${i} open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: ${ip}, server: example.test, request: "GET /favicon.ico HTTP/1.1", host: "example.test"`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
