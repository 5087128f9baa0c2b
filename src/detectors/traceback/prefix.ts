/**
 * @module
 * Log-line prefixes in front of trace lines, and which source (rank, task, service) a line is from.
 *
 * Launchers and loggers put things in front of every line: timestamps (ISO, syslog, glog, time of
 * day), level and logger names (`ERROR:root:`, `ERROR train: `, `[ERROR] `), and source labels
 * (`[rank3]:`, `rank3:`, torchrun `[default0]:`, srun `--label` `3: `, mpirun `[1,0]<stderr>:`,
 * docker compose `svc-1  | `, pm2 `0|app  | `, concurrently `[0] ` / `[api] `, pdsh/deepspeed host
 * labels `worker-1: ` / `localhost: `, Spark's `23/05/10 12:00:00 `). {@link parsePrefix} removes them and reports the source label as a
 * key, so that traces printed by several ranks at once, line-interleaved, are parsed separately.
 * It runs only on the slow path (a trace is open, or a line looks like a trace start).
 */

export interface PrefixResult {
  /** The source labels found, joined by `/` (`rank3`, `svc-1/rank0`); `""` when none. */
  key: string;
  /** The line with every recognised prefix removed. */
  text: string;
  /**
   * Which log-record prefixes were removed: {@link RECORD_TIME} (a timestamp) and/or
   * {@link RECORD_LEVEL} (a level or logger name). 0 when none: the line is plain program output.
   */
  record: number;
  /**
   * The level the line's first level prefix names (`ERROR`, `INFO`; `WARN` and glog's `W` read as
   * `WARNING`, `E` as `ERROR`…), `""` when none. In a log whose logger prefixes every line of a
   * record, a change of level is a new record (see detector.ts).
   */
  level: string;
  /** An srun-style numeric label (`3: `) was removed. */
  labelled: boolean;
}

// All sticky: matched at a position without slicing the line.
const COMPOSE = /([A-Za-z0-9][\w.-]*) +\| ?/y;
/** A relay's stream tag (accelerate, LlamaFactory): `stderr: `. Not a source of its own. */
const RELAY = /(?:stdout|stderr): /y;
/** Ray workers: `(pid=4242) `, `(TrainWorker pid=4242, ip=10.0.0.3) `. */
const RAY = /\((?:[\w.]+ )?(pid=\d+)(?:, ip=[\d.]+)?\) /y;
/** pm2 logs: `0|app  | `. */
const PM2 = /(\d+\|[\w.-]+) *\| ?/y;
/** concurrently: `[0] `, `[api] ` (lowercase names, never a level word). */
const CONCURRENTLY =
  /\[(\d{1,3}|(?!(?:debug|info|warn|warning|error|fatal|trace|notice|critical|nodemon)\])[a-z][\w-]{0,30})\] /y;
/** pdsh (deepspeed multi-node): `worker-1: `, `node01: `, `localhost: `. */
const HOST = /(localhost|[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?:\.[a-z0-9-]+)*|[a-z]+\d+): /y;
const MPI = /\[(\d+,\d+)\]<(?:stdout|stderr|stddiag)>: ?/y;
const BRACKET_RANK = /\[([A-Za-z_]+\d+)\]: ?/y;
const BARE_RANK = /(rank\d+): ?/y;
const LABEL = / {0,4}(\d{1,5}): /y;
const ISO =
  /\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?(?:Z|[+-]\d\d:?\d\d|UTC))?\]?(?: [|-] |: | |$)/y;
/** log4j's default in Spark / Hadoop: `23/05/10 12:00:00 `. */
const YMD_SHORT = /\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d(?:[.,]\d+)? /y;
const TIME = /\[?\d\d:\d\d:\d\d(?:[.,]\d+)?\]? /y;
const SYSLOG = /[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:]+: ?/y;
const GLOG = /([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\s\]]+:\d+\] ?/y;
const PYLOG = /(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.<>-]*:/y;
const NAME_LEVEL = /[\w.]+ - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - /y;
/**
 * A level, then maybe a logger name (`ERROR train: `). loguru pads the level and names the place:
 * `ERROR    | __main__:main:12 - ` (its default `{level: <8} | {name}:{function}:{line} - `).
 */
const LEVEL =
  /\[?(DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL|TRACE|SEVERE|NOTICE|SUCCESS)\]?(?: *[:|-] ?| )(?:[a-z_][\w.]*(?::| -) |[\w.]+:[\w.<>]+:\d+ - )?/y;
/** A timestamp was removed. */
export const RECORD_TIME = 1;
/** A level or logger name was removed. */
export const RECORD_LEVEL = 2;

/** glog's severity letters, and the one spelling kept for `WARN`. */
const LEVEL_NAME: Readonly<Record<string, string>> = {
  I: "INFO",
  W: "WARNING",
  E: "ERROR",
  F: "FATAL",
  WARN: "WARNING",
};

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** Source labels (the key of the line), tried in this order after the outermost ones. */
const KEYED: readonly RegExp[] = [MPI, BRACKET_RANK, BARE_RANK];
/** Record prefixes (timestamps, levels, logger names) and what each says about the line. */
const STAMPS: readonly RegExp[] = [ISO, GLOG, SYSLOG, YMD_SHORT, TIME, PYLOG, NAME_LEVEL, LEVEL];
const STAMP_KIND: readonly number[] = [1, 3, 1, 1, 1, 2, 2, 2];

function at(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

/**
 * Remove the prefixes of one line. `allowLabel` false keeps a leading `  3: ` (needed when a Rust
 * backtrace, whose frame lines look exactly like srun labels, is open).
 */
export function parsePrefix(line: string, allowLabel = true, out?: PrefixResult): PrefixResult {
  const r: PrefixResult = out ?? { key: "", text: "", record: 0, level: "", labelled: false };
  let s = line;
  if (s.indexOf("\x1b") !== -1) s = s.replace(ANSI, "");
  let key = "";
  let record = 0;
  let level = "";
  let labelled = false;
  let pos = 0;
  for (let round = 0; round < 8; round++) {
    if (round === 0 && at(RELAY, s, pos)) {
      pos = RELAY.lastIndex;
    }
    if (round === 0) {
      const ray = at(RAY, s, pos);
      if (ray) {
        key = ray[1]!;
        pos = RAY.lastIndex;
        continue;
      }
      const pm = at(PM2, s, pos);
      if (pm) {
        key = pm[1]!;
        pos = PM2.lastIndex;
        continue;
      }
      const cc = at(CONCURRENTLY, s, pos);
      if (cc) {
        key = `[${cc[1]!}]`;
        pos = CONCURRENTLY.lastIndex;
        continue;
      }
      const h = at(HOST, s, pos);
      if (h) {
        key = h[1]!;
        pos = HOST.lastIndex;
        continue;
      }
      const c = at(COMPOSE, s, pos);
      if (c) {
        key = c[1]!;
        pos = COMPOSE.lastIndex;
        continue;
      }
      const l = allowLabel ? at(LABEL, s, pos) : null;
      if (l) {
        key = `task${l[1]!}`;
        labelled = true;
        pos = LABEL.lastIndex;
        continue;
      }
    }
    let matched = false;
    for (const re of KEYED) {
      const m = at(re, s, pos);
      if (m) {
        key = key === "" ? m[1]! : `${key}/${m[1]!}`;
        pos = re.lastIndex;
        matched = true;
        break;
      }
    }
    if (!matched) {
      for (let i = 0; i < STAMPS.length; i++) {
        const re = STAMPS[i]!;
        const m = at(re, s, pos);
        if (m) {
          pos = re.lastIndex;
          record |= STAMP_KIND[i]!;
          // the outermost level is the record's; a later one is the message's or a relayed log's
          if (level === "" && m[1] !== undefined) level = LEVEL_NAME[m[1]] ?? m[1];
          matched = true;
          break;
        }
      }
    }
    if (!matched) break;
  }
  r.key = key;
  r.text = pos === 0 ? s : s.slice(pos);
  r.record = record;
  r.level = level;
  r.labelled = labelled;
  return r;
}
