// A component that leaves a partial line waiting, as a prompt does: "Password: c" and the first
// byte of "é" at once, the rest of "é" and its newline once `flag` exists (the test creates it
// when it has seen the prompt). For the idle flush of a held line: after a second it goes out
// without the held byte, which joins its continuation later.

/** the `node -e` script of such a component */
export function promptScript(flag: string): string {
  return `
    const { existsSync } = require('node:fs');
    process.stdout.write(Buffer.from([...Buffer.from('Password: c'), 0xc3]));
    const wait = setInterval(() => {
      if (!existsSync(${JSON.stringify(flag)})) return;
      clearInterval(wait);
      process.stdout.write(Buffer.from([0xa9, 0x0a]));
    }, 20);`;
}
