// What the generators share to write Markdown.

/** Text for a table cell: pipes escaped, no HTML tag taken from `<word>`, on one line. */
export const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/\n/g, " ");

/** Inline code; a value that is not a string as JSON. */
export const code = (v: unknown): string => "`" + (typeof v === "string" ? v : JSON.stringify(v)) + "`";
