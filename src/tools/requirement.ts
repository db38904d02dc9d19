// What a command needs from a Debian package (no imports: the stage table and the Dagger module read it).

/** Something a stage needs on the machine: a program on PATH or a file, and the package that has it. */
export interface Requirement {
  /** Debian package that provides it. */
  package: string;
  /** Program looked up on PATH. */
  bin?: string;
  /** Absolute path of a file the package installs. */
  file?: string;
}
