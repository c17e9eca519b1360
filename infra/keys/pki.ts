import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage, FleetbanError } from '../../shared/errors.ts';

const run = promisify(execFile);

/** openssl failed; carries its message. */
export class PkiError extends FleetbanError {}

/** A certificate and its key, as files. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface CertOptions {
  /** Common name: the identity (`shipper web1`) or the server's name. */
  commonName: string;
  /** Organisational unit: the role, so a certificate says what it is for. */
  unit?: string;
  /** Host names and addresses the certificate is valid for (servers). */
  altNames?: readonly string[];
  usage: 'server' | 'client';
  days: number;
}

/** The only module that runs openssl; every call is an argument vector. */
async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { timeout: 60_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new PkiError(`openssl ${args[0]} failed: ${stderr || errorMessage(err)}`, { cause: err });
  }
}

/** A subject value safe inside `-subj /O=.../CN=...`: no slashes, equals signs or backslashes. */
function subjectPart(text: string): string {
  if (!/^[A-Za-z0-9 _.@:-]{1,64}$/.test(text)) throw new PkiError(`"${text}" cannot go in a certificate subject (letters, digits, space, _ . @ : - only)`);
  return text;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A new CA (P-256, self-signed) in `dir`: `ca.pem` and `ca-key.pem` (0600). */
export async function createCa(dir: string, name: string, days: number): Promise<CertFiles> {
  const files = { cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') };
  await openssl([
    'req', '-x509', ...EC, '-keyout', files.key, '-out', files.cert, '-days', String(days),
    '-subj', `/O=fleetban/CN=${subjectPart(name)}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await chmod(files.key, 0o600);
  return files;
}

/** A key and a certificate signed by `ca`, written as `<base>.pem` and `<base>-key.pem` (0600). */
export async function issueCert(ca: CertFiles, base: string, options: CertOptions): Promise<CertFiles> {
  const files = { cert: `${base}.pem`, key: `${base}-key.pem` };
  const csr = `${base}.csr`;
  const ext = `${base}.ext`;
  const subject = `/O=fleetban${options.unit ? `/OU=${subjectPart(options.unit)}` : ''}/CN=${subjectPart(options.commonName)}`;
  const alt = (options.altNames ?? []).map((n) => (isIP(n) ? `IP:${n}` : `DNS:${subjectPart(n)}`));
  const extensions = [
    'basicConstraints=critical,CA:FALSE',
    `keyUsage=critical,digitalSignature${options.usage === 'server' ? ',keyEncipherment' : ''}`,
    `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(alt.length > 0 ? [`subjectAltName=${alt.join(',')}`] : []),
  ];
  try {
    await writeFile(ext, `${extensions.join('\n')}\n`);
    await openssl(['req', '-new', ...EC, '-keyout', files.key, '-out', csr, '-subj', subject]);
    await chmod(files.key, 0o600);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-out', files.cert,
      '-days', String(options.days), '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-extfile', ext, '-sha256',
    ]);
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
  return files;
}
