// Structured JSON log lines in Diego's conventions: hyphenated messages, snake_case data keys.
export type LogData = Record<string, unknown>;

export interface Logger {
  debug(message: string, data?: LogData): void;
  info(message: string, data?: LogData): void;
  error(message: string, error?: unknown, data?: LogData): void;
  /** A logger whose lines all carry `data` (a session in lager's terms). */
  with(data: LogData): Logger;
}

type Level = "debug" | "info" | "error";
const rank: Record<Level, number> = { debug: 0, info: 1, error: 2 };

function describe(error: unknown): unknown {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return error;
}

function stringify(line: LogData): string {
  return JSON.stringify(line, (_key, value) => (typeof value === "bigint" ? value.toString() : value));
}

export function jsonLogger(options: { level?: Level; write?: (line: string) => void; base?: LogData } = {}): Logger {
  const min = rank[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = options.base ?? {};
  const emit = (level: Level, message: string, data?: LogData) => {
    if (rank[level] < min) return;
    write(stringify({ timestamp: new Date().toISOString(), source: "bbs", level, message, ...base, ...data }));
  };
  return {
    debug: (message, data) => emit("debug", message, data),
    info: (message, data) => emit("info", message, data),
    error: (message, error, data) => emit("error", message, { ...data, error: describe(error) }),
    with: (data) => jsonLogger({ ...options, base: { ...base, ...data } }),
  };
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  error() {},
  with() {
    return silentLogger;
  },
};
