import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fail2banPackageDir } from '../../shared/filter/index.ts';

/**
 * Debian's fail2ban package as the set-up step unpacks it (never installed):
 * its filters, sample logs and the real fail2ban-regex, for conformance and
 * comparison tests.
 */
export interface Fail2banPackage {
  root: string;
  /** etc/fail2ban (the config dir fail2ban's tests call CONFIG_DIR). */
  configDir: string;
  filterDir: string;
  /** The Python package (fail2ban/...). */
  pythonPath: string;
  testsDir: string;
  logsDir: string;
  regexScript: string;
  python: string;
}

export function fail2banPackage(): Fail2banPackage | undefined {
  const root = fail2banPackageDir();
  if (!root) return undefined;
  const pythonPath = join(root, 'usr', 'lib', 'python3', 'dist-packages');
  const testsDir = join(pythonPath, 'fail2ban', 'tests');
  return {
    root,
    configDir: join(root, 'etc', 'fail2ban'),
    filterDir: join(root, 'etc', 'fail2ban', 'filter.d'),
    pythonPath,
    testsDir,
    logsDir: join(testsDir, 'files', 'logs'),
    regexScript: join(root, 'usr', 'bin', 'fail2ban-regex'),
    python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
  };
}

/**
 * Why tests that need the unpacked package (and, with `python`, a Python to
 * run fail2ban's own code) cannot run, or undefined when they can.
 */
export function fail2banSkipReason(options: { python?: boolean } = {}): string | undefined {
  const pkg = fail2banPackage();
  if (!pkg) return 'the fail2ban package cache is empty: run infra/setup/setup.sh (it unpacks Debian\'s fail2ban with apt-get download)';
  if (!existsSync(pkg.regexScript)) return `no fail2ban-regex in ${pkg.root}`;
  if (options.python && spawnSync(pkg.python, ['-c', 'import configparser'], { stdio: 'ignore' }).status !== 0) {
    return `${pkg.python} cannot run: install python3 to compare with fail2ban's own code`;
  }
  return undefined;
}

/** Runs the real fail2ban-regex from the unpacked package; resolves with its output. */
export function runFail2banRegex(
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const pkg = fail2banPackage();
  if (!pkg) return Promise.reject(new Error('fail2ban package cache is empty'));
  return new Promise((resolve) => {
    execFile(
      pkg.python,
      [pkg.regexScript, '-c', pkg.configDir, ...args],
      {
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, PYTHONPATH: pkg.pythonPath, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
