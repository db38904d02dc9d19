// Events the executor emits while it builds; the CLI decides how to show them.

export type BuildEvent =
  | { event: "plan"; stages: string[] }
  | { event: "stage"; stage: string; status: "cached" | "running"; key: string }
  | { event: "stage"; stage: string; status: "done"; key: string; seconds: number }
  | { event: "stage"; stage: string; status: "failed"; seconds: number; log: string }
  | { event: "progress"; stage: string; units: number; total?: number }
  | { event: "info"; message: string }
  | { event: "warning"; message: string }
  | { event: "image"; tag: string; id: string; source: "engine" | "cache" | "built" }
  | { event: "published"; out: string; manifest: string; seconds: number };

export type Reporter = (e: BuildEvent) => void;
