'use strict';
// The Node quick start works as written: every ```js block that requires
// 'promlite' in docs/node.md (and in the README, once it has one) runs in a
// fresh project after `npm install <bindings-node>` and prints exactly the
// ```text block that follows it.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const { tempDir } = require('./helpers');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(PACKAGE_DIR, '..');
const DOCS = ['docs/node.md', 'README.md'];

/** `{ code, output }` for each Node snippet of a markdown text. */
function snippets(markdown, file) {
  const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
  const found = [];
  blocks.forEach((block, i) => {
    if (!['js', 'javascript'].includes(block.lang) || !block.body.includes("require('promlite')")) return;
    const next = blocks[i + 1];
    assert.ok(next && next.lang === 'text', `${file}: the Node snippet must be followed by a \`\`\`text block of its output`);
    found.push({ code: block.body, output: next.body });
  });
  return found;
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

test('the Node quick start runs as written after npm install', (t) => {
  const cases = DOCS.filter((f) => fs.existsSync(path.join(REPO_DIR, f))).flatMap((f) =>
    snippets(fs.readFileSync(path.join(REPO_DIR, f), 'utf8'), f).map((s) => ({ file: f, ...s })),
  );
  assert.ok(cases.some((c) => c.file === 'docs/node.md'), 'docs/node.md has no Node quick start');

  const project = tempDir(t);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'quickstart', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', PACKAGE_DIR], project);

  for (const [i, c] of cases.entries()) {
    const dir = path.join(project, `run${i}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'quickstart.js'), c.code);
    assert.equal(run(process.execPath, ['quickstart.js'], dir), c.output, `output of the snippet in ${c.file}`);
  }
});
