// Browser tests of the map page in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core; no browser download). Starts `terril serve` on a loopback port with
// the TER 2025 network and the Bassin minier hospitals and communes.
// Run: node --test web/tests/  (TERRIL_BIN and TERRIL_NETWORK may override the defaults)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.TERRIL_BIN || join(root, 'target/release/terril');
const network = process.env.TERRIL_NETWORK || join(root, 'target/ci-ter.bin');
const shots = join(root, 'target/screenshots');
mkdirSync(shots, { recursive: true });
let server, base, browser, page;

before(async () => {
  assert.ok(existsSync(bin), `terril binary missing: ${bin}`);
  assert.ok(existsSync(network), `network missing: ${network} (terril build --gtfs ../shared/data/ter/ter-2025-01-22.gtfs.zip --out ${network})`);
  server = spawn(bin, ['serve', '--network', network, '--port', '0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  base = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('terril serve did not start: ' + buf)), 60000);
    server.stderr.on('data', d => {
      buf += d;
      const m = buf.match(/on (http:\/\/[0-9.:]+)\//);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', e => console.error('page error:', e.message));
  await page.goto(base + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

// Types a name, waits for the suggestion starting with `prefix` and picks it.
async function pick(which, typed, prefix) {
  await page.fill('#' + which, typed);
  const opt = await page.waitForSelector(`#${which}-list option[value^="${prefix}"]`, { state: 'attached' });
  await page.fill('#' + which, await opt.getAttribute('value'));
  await page.dispatchEvent('#' + which, 'change');
}

test('the page opens in French and names the network', async () => {
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.match(await page.textContent('#tab-journey'), /Itinéraire/);
  assert.match(await page.textContent('#network'), /ter/);
  assert.ok(await page.$('.leaflet-container'), 'the map is drawn (Leaflet)');
});

test('plan Lens -> Lille Flandres and see an itinerary card with a TER badge and times', async () => {
  // Suggestions name the kind of place: the station, not the commune.
  await pick('from', 'Lens', 'Lens — gare');
  await pick('to', 'Lille Flandres', 'Lille Flandres');
  await page.fill('#date', '2025-02-04');
  await page.fill('#time', '07:00');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .card');
  const card = await page.textContent('#journey-results .card');
  assert.match(card, /\d\d:\d\d → \d\d:\d\d/);
  const badge = await page.textContent('#journey-results .card .badge');
  assert.match(badge, /^TER/);
  const steps = await page.textContent('#journey-results .card .steps');
  assert.match(steps, /\d\d:\d\d — TER.*À Lens, montez dans le TER [^;]*direction [^;]* ; descendez à Lille Flandres \(\d+ arrêts?\) à \d\d:\d\d/);
  assert.doesNotMatch(steps, /direction [^;]* à \d\d:\d\d ;/, "the boarding time is said once, at the start of the step");
  assert.ok((await page.$$('.leaflet-overlay-pane path')).length > 0, 'legs drawn on the map');
  await page.screenshot({ path: join(shots, '1-journey-fr.png') });
});

test('an impossible request gives a clear message in French', async () => {
  // Walking only from Lens to Lille (29 km): nothing within two hours.
  await page.check('#walkonly');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .error');
  assert.match(await page.textContent('#journey-results .error'), /Aucun trajet trouvé/);
  await page.uncheck('#walkonly');
  await page.screenshot({ path: join(shots, '2-no-journey.png') });
});

test('places typed by name: a commune to a hospital, arriving by 08:30, with the walks', async () => {
  await page.fill('#from', 'Hénin-Beaumont');
  await page.fill('#to', 'Centre hospitalier de Lens');
  await page.fill('#date', '2025-02-04');
  await page.fill('#time', '08:30');
  await page.check('input[name=when][value=arrive]');
  await page.selectOption('#maxwalk', '30');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .card');
  assert.match(await page.textContent('#journey-results .card .badge'), /^TER/);
  const steps = await page.textContent('#journey-results .card .steps');
  assert.match(steps, /Marchez \d+ min jusqu'à .*montez dans le TER/s);
  assert.match(steps, /CENTRE HOSPITALIER DE LENS/);
  await page.screenshot({ path: join(shots, '2b-by-name.png') });
  // The printed sheet stands alone: date, places, boarding station, map, validity.
  const sheet = await page.textContent('#sheet');
  assert.match(sheet, /mardi 4 février 2025 — arrivée avant 08:30/);
  assert.match(sheet, /Départ : Hénin-Beaumont/);
  assert.match(sheet, /Arrivée : Centre hospitalier de Lens/);
  assert.match(sheet, /À Hénin-Beaumont, montez dans le TER/);
  assert.match(sheet, /valables du 2025-01-22 au 2025-04-22/);
  assert.ok((await page.$$('#sheet svg polyline')).length >= 2, 'a route map that prints');
  assert.match(await page.textContent('#sheet svg'), /\d+ k?m.*Départ.*Arrivée.*marche/, 'the map has its scale and key');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#sheet'), true);
  assert.equal(await page.isVisible('#map'), false, 'only the sheet prints');
  const bg = await page.$eval('#sheet .badge', b => getComputedStyle(b).printColorAdjust || getComputedStyle(b).webkitPrintColorAdjust);
  assert.equal(bg, 'exact', 'badge colours print');
  await page.pdf({ path: join(shots, 'sheet.pdf'), format: 'A4', printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  assert.ok(statSync(join(shots, 'sheet.pdf')).size > 10000);
  // The search is in the address: the link opens the same journey.
  const url = page.url();
  assert.match(url, /from=H%C3%A9nin-Beaumont|fl=H%C3%A9nin-Beaumont/);
  const times = await page.textContent('#journey-results .card .times');
  const other = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await other.goto(url);
  await other.waitForSelector('#journey-results .card', { timeout: 30000 });
  assert.equal(await other.textContent('#journey-results .card .times'), times);
  assert.equal(await other.inputValue('#to'), 'Centre hospitalier de Lens');
  assert.equal(await other.inputValue('#maxwalk'), '30');
  await other.close();
  // With 15 minutes of walking the page says why, and offers the journey with more.
  await page.selectOption('#maxwalk', '15');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .notice');
  assert.match(await page.textContent('#journey-results .notice'), /Aucun trajet en transports avec 15 min de marche.*Avec jusqu'à \d+ min de marche/s);
  assert.ok(await page.$('#journey-results .card'), 'the journey with a longer walk is shown');
  await page.selectOption('#maxwalk', '20');
  await page.check('input[name=when][value=depart]');
});

test('the same place twice, or an unknown one, is said in French', async () => {
  await page.fill('#from', 'Lens');
  await page.fill('#to', 'lens');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .error');
  assert.match(await page.textContent('#journey-results .error'), /même lieu/);
  await page.fill('#to', 'Zzyzx Qwerty');
  await page.click('#view-journey button.primary');
  await page.waitForFunction(() => /lieu est inconnu/.test(document.querySelector('#journey-results')?.textContent || ''));
  // The map still works after an error: plan a real journey again.
  await pick('from', 'Lens', 'Lens — gare');
  await pick('to', 'Lille Flandres', 'Lille Flandres');
  await page.fill('#time', '07:00');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .card');
});

test('draw an isochrone and see polygons with a legend', async () => {
  await page.click('#tab-iso');
  const map = await page.$('#map');
  const box = await map.boundingBox();
  // Centre the map on Lens, then click it.
  await page.evaluate(() => window.dispatchEvent(new Event('resize')));
  await page.fill('#iso-date', '2025-02-04');
  await page.fill('#iso-window', '30');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.click('#view-iso button.primary');
  await page.waitForFunction(() => !document.getElementById('legend').hidden, null, { timeout: 30000 });
  const res = await page.textContent('#iso-results');
  assert.match(res, /km²/);
  await page.screenshot({ path: join(shots, '3-isochrone.png') });
  // The origin typed as a place, without the map.
  await page.fill('#iso', 'Harnes');
  await page.evaluate(() => { document.getElementById('iso-results').textContent = ''; });
  await page.click('#view-iso button.primary');
  await page.waitForFunction(() => /km²/.test(document.getElementById('iso-results').textContent), null, { timeout: 30000 });
  shared.iso = page.url();
  assert.match(shared.iso, /view=iso&iso=Harnes&/);
  // Issue 13: every view exports. The polygons as GeoJSON (one per cutoff drawn) and as
  // FlatGeobuf.
  const fs = await import('node:fs/promises');
  const drawnPolygons = (await page.textContent('#iso-results')).match(/km²/g).length;
  const [gj] = await Promise.all([page.waitForEvent('download'), page.click('#iso-exp-geojson')]);
  const fc = JSON.parse(await fs.readFile(await gj.path(), 'utf8'));
  assert.equal(fc.features.length, drawnPolygons);
  assert.ok(fc.features.every(f => /Polygon/.test(f.geometry.type)));
  const [fgb] = await Promise.all([page.waitForEvent('download'), page.click('#iso-exp-fgb')]);
  assert.equal((await fs.readFile(await fgb.path())).subarray(0, 3).toString(), 'fgb');
});

// Links to each view's search, kept by the tests above and opened afresh below.
const shared = {};

test('an accessibility map with a legend and the population summary', async () => {
  await page.click('#tab-access');
  await page.selectOption('#acc-dest', 'hospitals');
  await page.selectOption('#acc-orig', 'communes');
  await page.fill('#acc-date', '2025-02-04');
  await page.click('#view-access button.primary');
  await page.waitForSelector('#access-results .summary', { timeout: 60000 });
  assert.match(await page.textContent('#access-results'), /% de la population à plus de 30 min/);
  assert.equal(await page.isHidden('#legend'), false);
  assert.ok((await page.$$('.leaflet-overlay-pane path')).length > 100, 'one circle per commune');
  // Issue 13: the legend has its two last classes apart, and the map can be exported.
  const leg = await page.textContent('#legend');
  assert.match(leg, /au-delà de 60 \(jusqu'à 120\)/);
  assert.match(leg, /aucune en 120 min/);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#exp-csv')]);
  assert.match(dl.suggestedFilename(), /^acces-communes-hospitals-2025-02-04\.csv$/);
  const csv = await (await import('node:fs/promises')).readFile(await dl.path(), 'utf8');
  const lines = csv.trim().split('\n');
  assert.ok(lines.length > 300 && /^lon,lat,id,label/.test(lines[0]), lines[0]);
  const [gj] = await Promise.all([page.waitForEvent('download'), page.click('#exp-geojson')]);
  const fc = JSON.parse(await (await import('node:fs/promises')).readFile(await gj.path(), 'utf8'));
  assert.equal(fc.type, 'FeatureCollection');
  assert.equal(fc.features.length, lines.length - 1);
  // A PNG of the map view, with its legend.
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#exp-png')]);
  await png.saveAs(join(shots, '4b-map-export.png'));
  const bytes = await (await import('node:fs/promises')).readFile(await png.path());
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  assert.ok(bytes.readUInt32BE(16) >= 300 && bytes.readUInt32BE(20) >= 300, 'the image is the map\'s size');
  // Destinations filtered by type: only the "Centre Hospitalier (C.H.)" facilities.
  const types = await page.$$eval('#acc-type option', os => os.map(o => o.value));
  assert.ok(types.includes('facility_type=Centre Hospitalier (C.H.)'), types.join(' | '));
  await page.selectOption('#acc-type', 'facility_type=Centre Hospitalier (C.H.)');
  await page.evaluate(() => { document.getElementById('access-results').textContent = ''; });
  await page.click('#view-access button.primary');
  await page.waitForSelector('#access-results .summary', { timeout: 60000 });
  assert.match(page.url(), /acc-type=facility_type/);
  // The health report of the same search, and its commune table: 330 communes each.
  const fs = await import('node:fs/promises');
  const [rep] = await Promise.all([page.waitForEvent('download', { timeout: 90000 }), page.click('#exp-report')]);
  assert.match(rep.suggestedFilename(), /^rapport-sante-2025-02-04\.html$/);
  const html = await fs.readFile(await rep.path(), 'utf8');
  assert.equal((html.match(/<tr class="origin">/g) || []).length, 330);
  assert.match(html, /Centre Hospitalier \(C\.H\.\)/);
  const [tab] = await Promise.all([page.waitForEvent('download', { timeout: 90000 }), page.click('#exp-communes')]);
  const rows = (await fs.readFile(await tab.path(), 'utf8')).trim().split('\n');
  assert.match(rows[0], /^id,name,group,population,median_min,beyond_30_min/);
  assert.equal(rows.length - 1, 330);
  assert.match(await page.textContent('#report-status'), /Fichier téléchargé/);
  // FlatGeobuf (QGIS) of the map and of the communes: the format's magic bytes.
  for (const id of ['#exp-fgb', '#exp-communes-fgb']) {
    const [f] = await Promise.all([page.waitForEvent('download', { timeout: 90000 }), page.click(id)]);
    assert.match(f.suggestedFilename(), /\.fgb$/);
    const b = await fs.readFile(await f.path());
    assert.equal(b.subarray(0, 3).toString(), 'fgb', id);
    assert.ok(b.length > 1000, id);
  }
  shared.access = page.url();
  await page.screenshot({ path: join(shots, '4-accessibility.png') });
});

test('a scenario before/after map with its summary table', async () => {
  await page.click('#tab-scenario');
  await page.selectOption('#sc-pick', 'lens-nouvel-hopital');
  await page.fill('#sc-date', '2025-02-04');
  await page.click('#view-scenario button.primary');
  await page.waitForSelector('#scenario-results table', { timeout: 60000 });
  assert.match(await page.textContent('#scenario-results'), /Nouvel hôpital/);
  shared.scenario = page.url();
  // Issue 13: a new line is drawn and the communes that change are named, with units.
  await page.selectOption('#sc-pick', 'ter-lien-rapide-lille-henin');
  await page.evaluate(() => { document.getElementById('scenario-results').textContent = ''; });
  await page.click('#view-scenario button.primary');
  await page.waitForSelector('#scenario-results table', { timeout: 60000 });
  const res = await page.textContent('#scenario-results');
  assert.match(res, /Habitants qui gagnent l'accès/);
  // Its results download too: one CSV row per origin drawn, and FlatGeobuf.
  {
    const fs = await import('node:fs/promises');
    const circles = await page.evaluate(() => drawn.getLayers().filter(l => l instanceof L.CircleMarker).length);
    const [c] = await Promise.all([page.waitForEvent('download'), page.click('#sc-exp-csv')]);
    const lines = (await fs.readFile(await c.path(), 'utf8')).trim().split('\n');
    assert.match(lines[0], /^lon,lat,id,label/);
    assert.equal(lines.length - 1, circles, 'a row per origin on the map');
    const [f] = await Promise.all([page.waitForEvent('download'), page.click('#sc-exp-fgb')]);
    assert.equal((await fs.readFile(await f.path())).subarray(0, 3).toString(), 'fgb');
  }
  assert.match(res, /\d+ communes? dont l'accès change/);
  const named = await page.$$eval('#scenario-results .changes li b', bs => bs.map(b => b.textContent));
  assert.ok(named.some(x => /Carvin|Billy-Montigny|Phalempin|Dourges/.test(x)), named.join(', '));
  assert.match(await page.textContent('#legend'), /Nouvelle ligne/);
  assert.ok((await page.$$('.leaflet-overlay-pane path[stroke-dasharray]')).length >= 1, 'the new line drawn');
  await page.screenshot({ path: join(shots, '5b-scenario-new-line.png') });
  await page.screenshot({ path: join(shots, '5-scenario.png') });
});

test('every view\'s search is in the address: a shared link draws it again', async () => {
  const p = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  try {
    for (const [view, sel, re] of [['iso', '#iso-results', /km²/], ['access', '#access-results .summary', /% de la population/], ['scenario', '#scenario-results table', /gagnent/]]) {
      assert.ok(shared[view], `the ${view} test left its link`);
      await p.goto(shared[view]);
      await p.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
      await p.waitForSelector(sel, { timeout: 60000 });
      assert.match(await p.textContent(sel), re, view);
      assert.equal(await p.getAttribute(`#tab-${view}`, 'aria-selected'), 'true');
    }
  } finally { await p.close(); }
});

test('switch to English', async () => {
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('#tab-journey'), /Journey/);
  await page.click('#tab-journey');
  await page.click('#view-journey button.primary');
  await page.waitForSelector('#journey-results .card');
  assert.match(await page.textContent('#journey-results .steps'), /take the TER/);
  await page.screenshot({ path: join(shots, '6-english.png') });
  await page.click('#lang');
});

test('axe-core finds no critical, serious or moderate accessibility violation on any view', async () => {
  const axe = join(root, 'web/node_modules/axe-core/axe.min.js');
  const report = [];
  for (const view of ['journey', 'iso', 'access', 'scenario']) {
    await page.click('#tab-' + view);
    await page.addScriptTag({ path: axe });
    const r = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes.slice(0, 2).map(n => n.target.join(' ')) })));
    for (const v of r) report.push({ view, ...v });
  }
  const bad = report.filter(v => v.impact !== 'minor');
  console.log('axe-core:', JSON.stringify(report));
  assert.deepEqual(bad, [], JSON.stringify(bad, null, 1));
  await page.click('#tab-journey');
});

test('readable on a phone-sized screen', async () => {
  for (const width of [360, 390]) {
    await page.setViewportSize({ width, height: 780 });
    await page.uncheck('#large');
    const fits = async () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    const wide = () => page.evaluate(() => [...document.querySelectorAll('body *')].filter(e => e.offsetParent && e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('#map')).slice(0, 5).map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`).join(', '));
    assert.ok(await fits(), `no horizontal scroll at ${width} px: ${await wide()}`);
    const header = await (await page.$('header')).boundingBox();
    assert.ok(header.height < 780 / 4, `the header leaves the screen to the form (${header.height} px)`);
    const tab = await (await page.$('#tab-scenario')).boundingBox();
    assert.ok(tab.x + tab.width <= width, 'every tab is on screen');
    assert.ok(await page.isVisible('#from') && await page.isVisible('#view-journey button.primary'), 'the form is there');
    await page.check('#large');
    assert.ok(await fits(), `large text: no horizontal scroll at ${width} px: ${await wide()}`);
    assert.ok(await page.isVisible('#from'), 'large text keeps the form');
    await page.screenshot({ path: join(shots, `7-phone-${width}-large.png`) });
  }
  await page.uncheck('#large');
  await page.setViewportSize({ width: 1280, height: 860 });
});
