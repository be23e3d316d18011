// Whether web/node_modules holds exactly the packages web/package-lock.json pins: npm ci records
// what it installed in node_modules/.package-lock.json. Compared by content, not by file times, so
// a git checkout that rewrites an unchanged lock file does not count as a change.
//   node installed.mjs  ->  exit 0 when installed as pinned, 1 (with the reason) otherwise
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** null when node_modules matches the lock file, else what is wrong. */
export function installedMismatch() {
  const lockPath = join(here, 'package-lock.json');
  const installedPath = join(here, 'node_modules', '.package-lock.json');
  let installed;
  try {
    installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages;
  } catch {
    return `${installedPath}: missing; run \`bash scripts/install-deps.sh\` (it runs npm ci in web/)`;
  }
  const pinned = JSON.parse(readFileSync(lockPath, 'utf8')).packages;
  for (const [path, entry] of Object.entries(pinned)) {
    if (path === '') continue;
    const found = installed[path];
    if (!found && entry.optional) continue;  // another platform's esbuild binary
    if (!found || found.version !== entry.version) {
      return `${join(here, path)}: not the version ${lockPath} pins (${entry.version}); ` +
             'run `bash scripts/install-deps.sh` (it runs npm ci in web/)';
    }
  }
  return null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mismatch = installedMismatch();
  if (mismatch) console.error(mismatch);
  process.exit(mismatch ? 1 : 0);
}
