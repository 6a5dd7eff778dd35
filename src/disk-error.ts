/**
 * A file that cannot be written because of the disk, not the user: full (ENOSPC), over quota
 * (EDQUOT), too large for the filesystem (EFBIG), or failing (EIO). These are runtime faults, so
 * they stop the command with exit 3 and one sentence, never an "internal error" with a stack.
 */
const PHRASES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: 'the file is too large for the filesystem',
  EIO: 'the disk reported an I/O error',
};

/** "no space left on the device (ENOSPC)" for a disk failure; undefined for anything else. */
export function diskProblem(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in PHRASES ? `${PHRASES[code]} (${code})` : undefined;
}
