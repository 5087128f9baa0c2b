import { describe, expect, test } from "bun:test";
import { RuleSpec } from "../config/schema.ts";
import type { Detection } from "../core/types.ts";
import { compileRules, firstMatch, RuleHealer } from "./rules.ts";

const det = (over: Partial<Detection>): Detection => ({
  detector: "traceback",
  detectorKind: "traceback",
  kind: "error",
  message: "",
  context: [],
  meta: {},
  at: 0,
  generation: 1,
  ...over,
});
const rules = (...specs: unknown[]) => compileRules(specs.map((s) => RuleSpec.parse(s)));

describe("rule matching", () => {
  test("match.signature: the detection must carry that built-in signature", () => {
    const rs = rules(
      {
        name: "ram",
        match: { signature: "oom_killer" },
        action: { kind: "restart_with_env", set: { B: "half" } },
      },
      { name: "gpu", match: { signature: "cuda_oom", detector: "traceback" }, action: { kind: "abort" } },
    );
    expect(rs[0]!.signature).toBe("oom_killer");
    expect(
      firstMatch(rs, [det({ detector: "signatures", message: "Killed", signatureName: "oom_killer" })])?.rule
        .name,
    ).toBe("ram");
    expect(
      firstMatch(rs, [det({ message: "torch.OutOfMemoryError: …", signatureName: "cuda_oom" })])?.rule.name,
    ).toBe("gpu");
    // the signature alone is not enough when another condition fails, and no signature never matches
    expect(firstMatch(rs, [det({ detector: "signatures", signatureName: "cuda_oom" })])).toBeNull();
    expect(firstMatch(rs, [det({ message: "Killed" })])).toBeNull();
    expect(() => rules({ match: { signature: "no_such" }, action: { kind: "abort" } })).toThrow();
  });

  test("first rule wins, and a rule's own conditions must all hold", () => {
    const rs = rules(
      {
        name: "oom",
        match: { detector: "traceback", message_regex: "(?i)out of memory" },
        action: { kind: "restart" },
      },
      { name: "any-tb", match: { detector: "traceback" }, action: { kind: "abort" } },
    );
    expect(firstMatch(rs, [det({ message: "torch.OutOfMemoryError: CUDA out of memory" })])?.rule.name).toBe(
      "oom",
    );
    expect(firstMatch(rs, [det({ message: "KeyError: 'x'" })])?.rule.name).toBe("any-tb");
    expect(
      firstMatch(rs, [det({ detector: "exit_code", message: "process exited with code 1" })]),
    ).toBeNull();
  });

  test("rule order is the priority across several detections of one failure", () => {
    const rs = rules(
      {
        name: "halve",
        match: { detector: "oom" },
        action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" } },
      },
      { name: "crash", match: { detector: "exit_code" }, action: { kind: "restart" } },
    );
    const exit = det({
      detector: "exit_code",
      detectorKind: "exit_code",
      message: "process exited with code 1",
    });
    const oom = det({
      detector: "oom",
      detectorKind: "pattern",
      message: "pattern matched: CUDA out of memory",
    });
    const m = firstMatch(rs, [exit, oom]);
    expect(m?.rule.name).toBe("halve");
    expect(m?.detection).toBe(oom);
  });

  test("exception_type matches the chain, and a bare name matches the last dotted part", () => {
    const rs = rules({ match: { exception_type: "OutOfMemoryError" }, action: { kind: "restart" } });
    const d = det({
      message: "RuntimeError: wrapped",
      exceptionType: "RuntimeError",
      trace: {
        language: "python",
        text: "",
        exceptions: [
          { type: "torch.cuda.OutOfMemoryError", message: "CUDA out of memory", frames: [] },
          { type: "RuntimeError", message: "wrapped", frames: [] },
        ],
      },
    });
    expect(firstMatch(rs, [d])).not.toBeNull();
    expect(
      firstMatch(
        rules({ match: { exception_type: "torch.OutOfMemoryError" }, action: { kind: "restart" } }),
        [d],
      ),
    ).toBeNull();
    expect(firstMatch(rs, [det({ exceptionType: "MyOutOfMemoryErrorX" })])).toBeNull();
  });

  test("the healer names the rule (default: the detector) and copies the action", async () => {
    const h = new RuleHealer(
      rules({ match: { detector: "oom" }, action: { kind: "restart_with_env", set: { B: "half" } } }),
    );
    const d = det({ detector: "oom" });
    const out = await h.heal({
      incidentId: "i",
      incidentDir: "/x",
      detection: d,
      related: [d],
      signal: new AbortController().signal,
    });
    expect(out?.ruleName).toBe("oom");
    expect(out?.source).toBe("rule");
    expect(out?.action).toEqual({
      kind: "restart_with_env",
      set: { B: "half" },
      command: [],
      timeout_seconds: 300,
      notify: true,
    });
  });

  test("wouldAct tells, without healing, exactly whether heal answers (issue 13)", async () => {
    const h = new RuleHealer(
      rules(
        { match: { detector: "oom", message_regex: "GiB" }, action: { kind: "restart" } },
        { match: { exception_type: "KeyError" }, action: { kind: "abort" } },
      ),
    );
    const cases: Detection[][] = [
      [],
      [det({ detector: "oom", message: "2 GiB" })],
      [det({ detector: "oom", message: "2 MiB" })],
      [det({ detector: "exit_code", detectorKind: "exit_code" })],
      [
        det({ exceptionType: "builtins.KeyError" }),
        det({ detector: "exit_code", detectorKind: "exit_code" }),
      ],
      [det({ detector: "oom", message: "no" }), det({ detector: "oom", message: "then GiB" })],
    ];
    const got: Array<[boolean, boolean]> = [];
    for (const related of cases) {
      const out = await h.heal({
        incidentId: "i",
        incidentDir: "/x",
        detection: related[0] ?? det({}),
        related,
        signal: new AbortController().signal,
      });
      got.push([h.wouldAct(related), out !== null]);
    }
    expect(got).toEqual([
      [false, false],
      [true, true],
      [false, false],
      [false, false],
      [true, true],
      [true, true],
    ]);
  });
});
