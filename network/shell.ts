// Quoting for commands that run through a shell on the other side (the guest's sh -c, ssh, tmux).

/** Quotes one argument so a POSIX shell reads it back as one word, unchanged. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A shell command line: one argument is taken as a command line as is, several as quoted words. */
export function shellCommand(argv: string[]): string {
  return argv.length === 1 ? argv[0]! : argv.map(shellQuote).join(" ");
}
