import { expect, test } from "bun:test";
import { accountName, passwdName } from "./account.ts";

test("USER, then LOGNAME, then the account database by uid (never Bun's 'unknown')", () => {
  expect(accountName({ USER: "ada", LOGNAME: "x" })).toBe("ada");
  expect(accountName({ LOGNAME: "grace" })).toBe("grace");
  const byUid = accountName({});
  expect(byUid).not.toBe("unknown");
  expect(byUid).toBe(passwdName(process.getuid!()) ?? `uid ${process.getuid!()}`);
});

test("passwdName reads the uid's login name", () => {
  const text = "root:x:0:0:root:/root:/bin/bash\nada:x:1000:1000::/home/ada:/bin/sh\n";
  expect(passwdName(1000, text)).toBe("ada");
  expect(passwdName(0, text)).toBe("root");
  expect(passwdName(4242, text)).toBeNull();
});
