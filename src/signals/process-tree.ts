/**
 * @module
 * The child's whole process tree from /proc: resident memory summed over every descendant (a
 * dataloader's workers are where the memory goes) and open file descriptors. One pass over /proc
 * builds the parent map; pids that vanish mid-read are skipped, not errors.
 */
import * as fs from "node:fs";
import { readProcStat } from "../util/proc.ts";

const PAGE = 4096;

/** `root` and every live descendant of it. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readProcStat(Number(name));
    if (st === null || st.state === "Z" || st.state === "X") continue;
    const list = children.get(st.ppid);
    if (list) list.push(st.pid);
    else children.set(st.ppid, [st.pid]);
  }
  if (readProcStat(root) === null) return [];
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    for (const k of children.get(p) ?? []) stack.push(k);
  }
  return out;
}

export interface TreeUsage {
  processes: number;
  rssBytes: number;
  fds: number;
}

/** RSS and open fds summed over `root`'s tree (0 processes when it is gone). */
export function treeUsage(root: number): TreeUsage {
  const pids = descendants(root);
  let rss = 0;
  let fds = 0;
  let n = 0;
  for (const pid of pids) {
    try {
      // statm field 2 is resident pages
      const statm = fs.readFileSync(`/proc/${pid}/statm`, "latin1").split(" ");
      rss += Number(statm[1]) * PAGE;
      n++;
    } catch {
      continue;
    }
    try {
      fds += fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // another user's process or gone: its fds cannot be counted
    }
  }
  return { processes: n, rssBytes: rss, fds };
}
