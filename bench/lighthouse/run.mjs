// Lighthouse 12 (the npm package, its default mobile preset: a Moto G
// Power's screen, simulated slow 4G and a 4× slower CPU) on Roster's page
// as the release roster-server serves it, and beside it in the same run on
// the React widget of the cold-load benchmark (bench/sites.mjs), both with
// 1,000 users. Accessibility, best practices and SEO are checked, not just
// reported: each must be 100 for Roster's page, else this exits 1 naming
// the audits that lost points. Performance is the median of RUNS runs.
//
//   cd bench/lighthouse && npm ci && node run.mjs [--runs 3] [--json FILE]
//
// scripts/bench.sh runs it; its table goes into BENCHMARKS.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { option, startRoster, startBaselines } from '../sites.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(option('--runs', '3'));
const JSON_OUT = option('--json', path.join(ROOT, 'bench/results/lighthouse.json'));
const USERS = 1_000;
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const MUST_BE_100 = ['accessibility', 'best-practices', 'seo'];

/** One Lighthouse run on `url`: each category's score (0-100) and what lost points. */
async function audit(url) {
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const { lhr } = await lighthouse(url, { port: chrome.port, logLevel: 'error', onlyCategories: CATEGORIES });
    if (lhr.runtimeError) throw new Error(`Lighthouse on ${url}: ${lhr.runtimeError.message}`);
    const scores = {};
    const failing = {};
    for (const id of CATEGORIES) {
      const category = lhr.categories[id];
      scores[id] = Math.round(category.score * 100);
      failing[id] = category.auditRefs
        .filter((ref) => ref.weight > 0 && lhr.audits[ref.id].score !== null && lhr.audits[ref.id].score < 1)
        .map((ref) => `${ref.id} (${lhr.audits[ref.id].title})`);
    }
    const metric = (id) => lhr.audits[id]?.numericValue;
    return {
      scores,
      failing,
      metrics: { fcp: metric('first-contentful-paint'), lcp: metric('largest-contentful-paint'), tbt: metric('total-blocking-time'), cls: metric('cumulative-layout-shift') },
      version: lhr.lighthouseVersion,
    };
  } finally {
    await chrome.kill();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const baselines = await startBaselines();
  const roster = await startRoster(USERS, { args: ['--allowed-origin', baselines.origin] });
  const pages = { roster: `${roster.url}/`, react: baselines.reactUrl(roster.ws) };
  const runs = { roster: [], react: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const [kind, url] of Object.entries(pages)) {
        const result = await audit(url);
        runs[kind].push(result);
        console.error(`${kind}: ${CATEGORIES.map((c) => `${c} ${result.scores[c]}`).join(', ')}`);
      }
    }
  } finally {
    await roster.stop();
    await baselines.stop();
  }
  const summary = Object.fromEntries(Object.entries(runs).map(([kind, list]) => [kind, {
    scores: Object.fromEntries(CATEGORIES.map((c) => [c, median(list.map((r) => r.scores[c]))])),
    metrics: Object.fromEntries(Object.keys(list[0].metrics).map((m) => [m, median(list.map((r) => r.metrics[m]))])),
    failing: list[0].failing,
    runs: list,
  }]));
  const result = { when: new Date().toISOString(), runs: RUNS, users: USERS, version: runs.roster[0].version, ...summary };
  fs.mkdirSync(path.dirname(JSON_OUT), { recursive: true });
  fs.writeFileSync(JSON_OUT, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(markdown(result));
  // Every run, not only the median, must be 100 where 100 is the goal.
  const short = runs.roster.flatMap((r) => MUST_BE_100.filter((c) => r.scores[c] < 100).map((c) => `${c} ${r.scores[c]}: ${r.failing[c].join(', ')}`));
  if (short.length) {
    console.error(`Roster's page is below 100:\n  ${[...new Set(short)].join('\n  ')}`);
    process.exit(1);
  }
}

function markdown(r) {
  const ms = (v) => `${Math.round(v).toLocaleString('en')} ms`;
  const lines = ['### Lighthouse: Roster\'s page and the React widget', ''];
  lines.push(`Measured by \`node bench/lighthouse/run.mjs\` (part of \`scripts/bench.sh\`), ${r.when}: Lighthouse ${r.version}, its default mobile preset (simulated slow 4G, 4× CPU slowdown), headless Chromium, ${r.users.toLocaleString('en')} users; medians of ${r.runs} runs. Roster's page from the release \`roster-server\`; the React 19 + react-window widget of the cold-load benchmark from the compressing static host, on the same server's socket.`, '');
  lines.push('| category / metric | Roster | React widget | goal |', '|---|---|---|---|');
  for (const c of CATEGORIES) {
    lines.push(`| ${c} | ${r.roster.scores[c]} | ${r.react.scores[c]} | ${MUST_BE_100.includes(c) ? '100 (Roster)' : 'reported'} |`);
  }
  lines.push(`| first contentful paint | ${ms(r.roster.metrics.fcp)} | ${ms(r.react.metrics.fcp)} | |`);
  lines.push(`| largest contentful paint | ${ms(r.roster.metrics.lcp)} | ${ms(r.react.metrics.lcp)} | |`);
  lines.push(`| total blocking time | ${ms(r.roster.metrics.tbt)} | ${ms(r.react.metrics.tbt)} | |`);
  lines.push(`| cumulative layout shift | ${r.roster.metrics.cls.toFixed(3)} | ${r.react.metrics.cls.toFixed(3)} | |`);
  const lost = (kind) => CATEGORIES.flatMap((c) => r[kind].failing[c].map((a) => `${c}: ${a}`));
  lines.push('', `Audits below full marks, Roster (first run): ${lost('roster').join('; ') || 'none'}.`, '');
  lines.push(`Audits below full marks, React widget (first run): ${lost('react').join('; ') || 'none'}.`, '');
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
