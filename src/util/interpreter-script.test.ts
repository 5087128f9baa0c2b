import { expect, test } from "bun:test";
import { interpreterOf, scriptOf } from "./interpreter-script.ts";

test("the script handed to each known interpreter", () => {
  const s = (...argv: string[]) => scriptOf(argv)?.script ?? null;
  expect(s("python", "train.py", "--epochs", "3")).toBe("train.py");
  expect(s("python3.11", "-u", "-W", "ignore", "src/train.py")).toBe("src/train.py");
  expect(s("/opt/conda/bin/python", "-X", "dev", "-uB", "t.py")).toBe("t.py");
  expect(s("python", "-m", "torch.distributed.run", "train.py")).toBeNull();
  expect(s("python", "-mpytest")).toBeNull();
  expect(s("python", "-c", "print(1)")).toBeNull();
  expect(s("node", "--require", "ts-node/register", "server.js")).toBe("server.js");
  expect(s("node", "-e", "1")).toBeNull();
  expect(s("node", "--test")).toBeNull();
  expect(s("bash", "-o", "pipefail", "run.sh", "a")).toBe("run.sh");
  expect(s("bash", "-c", "echo hi")).toBeNull();
  expect(s("sh", "-e", "x.sh")).toBe("x.sh");
  expect(s("Rscript", "--vanilla", "fit.R")).toBe("fit.R");
  expect(s("Rscript", "-e", "1+1")).toBeNull();
  expect(s("julia", "--project=.", "-t", "4", "main.jl")).toBe("main.jl");
  expect(s("bun", "run", "train.ts")).toBe("train.ts");
  expect(s("bun", "run", "dev")).toBeNull();
  expect(s("deno", "run", "-A", "--config", "deno.json", "main.ts")).toBe("main.ts");
  expect(s("ruby", "-I", "lib", "app.rb")).toBe("app.rb");
  expect(s("perl", "-e", "1")).toBeNull();
  expect(s("php", "-f", "x.php")).toBe("x.php");
  expect(s("java", "-Xmx4g", "-jar", "app.jar")).toBe("app.jar");
  expect(s("java", "-cp", "lib", "Main")).toBeNull();
  expect(s("env", "CUDA_VISIBLE_DEVICES=0", "python", "t.py")).toBe("t.py");
  expect(s("make", "train")).toBeNull();
  expect(s("python")).toBeNull();
});

test("interpreter names", () => {
  expect(interpreterOf("/usr/bin/python3")).toBe("python");
  expect(interpreterOf("nodejs")).toBe("node");
  expect(interpreterOf("pythonista")).toBeNull();
});
