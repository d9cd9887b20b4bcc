// terril map page: journeys, isochrones, accessibility, scenarios. French first.
'use strict';

const T = {
  fr: {
    tabJourney: 'Itinéraire', tabIso: 'Isochrone', tabAccess: 'Accessibilité', tabScenario: 'Scénario',
    from: 'Départ', to: 'Arrivée', date: 'Date', time: 'Heure', when: 'Quand', departAt: 'Partir à', arriveBy: 'Arriver avant',
    options: 'Options', walkOnly: 'À pied seulement', bike: "Vélo jusqu'à la gare", wheelchair: 'Fauteuil roulant',
    search: 'Rechercher', placeFrom: 'Commune, gare, hôpital, adresse… ou cliquez sur la carte', placeTo: 'Commune, gare, hôpital, adresse… ou cliquez sur la carte',
    maxWalk: "Marche maximale au départ et à l'arrivée", mapPoint: 'Point choisi sur la carte',
    walkExtended: (asked, m) => `Aucun trajet en transports avec ${asked} min de marche au plus au départ ou à l'arrivée. Avec jusqu'à ${m} min de marche :`,
    // Server errors come in French from the API (lang=fr); only the page's own are here.
    errors: {
      network: 'Le serveur ne répond pas : vérifiez la connexion et réessayez.',
      other: "La demande n'a pas abouti : vérifiez le formulaire et réessayez.",
    },
    large: 'Grands caractères', tiles: 'Fond de carte en ligne', switchLang: 'English',
    isoHint: 'Tapez un lieu ou cliquez sur la carte.', isoFrom: 'Point de départ', mode: 'Mode', modeTransit: 'Marche + transports', modeWalk: 'Marche',
    modeBike: 'Vélo', modeBikeTransit: 'Vélo + transports', window: 'Fenêtre de départ (minutes)', cutoffs: 'Seuils (minutes)',
    drawIso: "Tracer l'isochrone", destinations: 'Destinations', facilityType: 'Type de destination', allTypes: 'Tous les types', origins: 'Zones',
    exportReport: 'Rapport santé (HTML, à imprimer)', exportCommunes: 'Tableau des communes (CSV)', exportPng: 'Image de la carte (PNG)', reportWait: 'Calcul du rapport (population répartie dans chaque commune)…', reportDone: 'Rapport téléchargé.', fileDone: 'Fichier téléchargé.', exportFgb: 'Télécharger (FlatGeobuf, pour QGIS)', exportCommunesFgb: 'Communes (FlatGeobuf, pour QGIS)', windowRange: 'Départs', threshold: 'Seuil (minutes)',
    showMap: 'Afficher la carte', scenario: 'Scénario', scenarioFile: 'ou un fichier JSON', compare: 'Comparer avant / après',
    demo: 'Réseau FICTIF de démonstration — aucune donnée réelle', network: 'Réseau', validity: (a, b) => `valable du ${a} au ${b}`,
    noStreets: 'sans rues (marche en ligne droite)',
    chooseFrom: 'Choisissez un départ (tapez un nom ou cliquez sur la carte).', chooseTo: "Choisissez une arrivée.",
    searching: 'Recherche…', changes: n => n === 0 ? 'direct' : n === 1 ? '1 correspondance' : `${n} correspondances`,
    walkMin: m => `${m} min à pied`, duration: m => m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}` : `${m} min`,
    stepWalk: (m, to) => `Marchez ${m} min jusqu'à ${to}`, stepBike: (m, to) => `Pédalez ${m} min jusqu'à ${to}`,
    stepBoard: (from, mode, line, dir, to, n, off) => `À ${from}, montez dans le ${mode} ${line} direction ${dir} ; descendez à ${to} (${n} arrêt${n > 1 ? 's' : ''}) à ${off}`,
    stepStreets: list => `par ${list}`, path: 'chemin', platform: p => ` (voie ${p})`,
    stepWait: (m, at) => `Correspondance à ${at} : ${m} min d'attente`,
    nextDay: ' (le lendemain)', sheetTitle: 'Votre trajet', sheetFrom: 'Départ', sheetTo: 'Arrivée',
    sheetWhen: (d, arrive, t) => `${d} — ${arrive ? 'arrivée avant' : 'départ à partir de'} ${t}`,
    sheetTotals: (dur, ch, walk, wait) => `${dur} · ${ch} · ${walk} à pied · ${wait} min d'attente`,
    sheetSource: (net, a, b, now) => `Horaires du réseau ${net}, valables du ${a} au ${b}. Fiche calculée par terril le ${now}. Vérifiez les horaires avant de partir.`,
    locale: 'fr-FR',
    yourDestination: 'votre destination', print: 'Imprimer la fiche', direct: 'Sans transport', walkAll: 'À pied', bikeAll: 'À vélo',
    noJourneyDepart: t => `Aucun trajet trouvé après ${t} : essayez plus tôt, plus tard ou à vélo.`,
    noJourneyArrive: t => `Aucun trajet trouvé avant ${t} : essayez plus tôt ou à vélo.`,
    clickOrigin: "Choisissez d'abord le point de départ : tapez un lieu ou cliquez sur la carte.", minutes: 'min',
    within: (p, c, what) => `${p} % de la population à plus de ${c} min ${what}`, nearestOf: 'de la destination la plus proche',
    newLine: 'Nouvelle ligne', noAccessEither: 'sans accès avant ni après', scCutoff: 'Seuil', scGain: "Habitants qui gagnent l'accès", scLose: "Habitants qui le perdent", scMore: 'Habitants atteignant plus de destinations', scFewer: 'Habitants en atteignant moins',
    scWhere: k => `${k} commune${k > 1 ? 's' : ''} dont l'accès change`, scNoChange: "Aucune commune ne voit son accès changer.", scTime: 'temps', scWithin: c => `destinations en ${c} min :`, inhabitants: 'habitants', scUnits: "Nombres d'habitants (population des communes), temps jusqu'à la destination la plus proche.",
    noScenario: "Aucun scénario sur ce serveur : placez des fichiers JSON dans le dossier scenarios/ ou lancez terril serve --scenarios DOSSIER ; vous pouvez aussi choisir un fichier ci-dessous.",
    unreachable: 'inaccessible', noneWithin: m => `aucune en ${m} min`, beyond: (a, m) => `au-delà de ${a} (jusqu'à ${m})`, exportCsv: 'Télécharger (CSV)', exportGeojson: 'Télécharger (GeoJSON, pour QGIS)', faster: 'plus rapide', slower: 'plus lent', unchanged: 'inchangé', legendTime: 'Temps (min)', legendDiff: 'Variation (min)',
    mapLib: 'La carte ne peut pas s’afficher (bibliothèque absente) ; les itinéraires fonctionnent.',
    modes: { rail: 'train', bus: 'bus', tram: 'tram', coach: 'car', subway: 'métro', ferry: 'bateau', cable: 'téléphérique', other: 'véhicule', walk: 'marche', bike: 'vélo' },
  },
  en: {
    tabJourney: 'Journey', tabIso: 'Isochrone', tabAccess: 'Accessibility', tabScenario: 'Scenario',
    from: 'From', to: 'To', date: 'Date', time: 'Time', when: 'When', departAt: 'Leave at', arriveBy: 'Arrive by',
    options: 'Options', walkOnly: 'Walking only', bike: 'Bike to the station', wheelchair: 'Wheelchair',
    search: 'Search', placeFrom: 'Town, station, hospital, address… or click the map', placeTo: 'Town, station, hospital, address… or click the map',
    maxWalk: 'Longest walk at each end', mapPoint: 'Point on the map',
    walkExtended: (asked, m) => `No public transport journey with at most ${asked} min of walking at either end. With up to ${m} min of walking:`,
    errors: { network: 'The server does not answer: check the connection and try again.', other: 'The request failed: check the form and try again.' },
    large: 'Large text', tiles: 'Online background map', switchLang: 'Français',
    isoHint: 'Type a place or click the map.', isoFrom: 'Starting point', mode: 'Mode', modeTransit: 'Walk + transit', modeWalk: 'Walk',
    modeBike: 'Bike', modeBikeTransit: 'Bike + transit', window: 'Departure window (minutes)', cutoffs: 'Cutoffs (minutes)',
    drawIso: 'Draw the isochrone', destinations: 'Destinations', facilityType: 'Destination type', allTypes: 'All types', origins: 'Areas',
    exportReport: 'Health report (HTML, to print)', exportCommunes: 'Commune table (CSV)', exportPng: 'Map image (PNG)', reportWait: 'Computing the report (population spread inside each commune)…', reportDone: 'Report downloaded.', fileDone: 'File downloaded.', exportFgb: 'Download (FlatGeobuf, for QGIS)', exportCommunesFgb: 'Communes (FlatGeobuf, for QGIS)', windowRange: 'Departures', threshold: 'Threshold (minutes)',
    showMap: 'Show the map', scenario: 'Scenario', scenarioFile: 'or a JSON file', compare: 'Compare before / after',
    demo: 'FICTIONAL demonstration network — no real data', network: 'Network', validity: (a, b) => `valid ${a} to ${b}`,
    noStreets: 'no streets (straight-line walking)',
    chooseFrom: 'Choose a start (type a name or click the map).', chooseTo: 'Choose a destination.',
    searching: 'Searching…', changes: n => n === 0 ? 'direct' : n === 1 ? '1 change' : `${n} changes`,
    walkMin: m => `${m} min walking`, duration: m => m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')}` : `${m} min`,
    stepWalk: (m, to) => `Walk ${m} min to ${to}`, stepBike: (m, to) => `Cycle ${m} min to ${to}`,
    stepBoard: (from, mode, line, dir, to, n, off) => `At ${from}, take the ${mode} ${line} towards ${dir}; get off at ${to} (${n} stop${n > 1 ? 's' : ''}) at ${off}`,
    stepStreets: list => `along ${list}`, path: 'path', platform: p => ` (platform ${p})`,
    stepWait: (m, at) => `Change at ${at}: ${m} min wait`,
    nextDay: ' (next day)', sheetTitle: 'Your journey', sheetFrom: 'From', sheetTo: 'To',
    sheetWhen: (d, arrive, t) => `${d} — ${arrive ? 'arriving by' : 'leaving from'} ${t}`,
    sheetTotals: (dur, ch, walk, wait) => `${dur} · ${ch} · ${walk} walking · ${wait} min waiting`,
    sheetSource: (net, a, b, now) => `Timetables of the ${net} network, valid ${a} to ${b}. Sheet computed by terril on ${now}. Check the times before you leave.`,
    locale: 'en-GB',
    yourDestination: 'your destination', print: 'Print the sheet', direct: 'No transit', walkAll: 'Walking', bikeAll: 'Cycling',
    noJourneyDepart: t => `No journey found after ${t}: try earlier, later or by bike.`,
    noJourneyArrive: t => `No journey found arriving by ${t}: try earlier or by bike.`,
    clickOrigin: 'Choose the starting point first: type a place or click the map.', minutes: 'min',
    within: (p, c, what) => `${p} % of the population more than ${c} min ${what}`, nearestOf: 'from the nearest destination',
    newLine: 'New line', noAccessEither: 'no access before or after', scCutoff: 'Cutoff', scGain: 'Residents gaining access', scLose: 'Residents losing it', scMore: 'Residents reaching more destinations', scFewer: 'Residents reaching fewer',
    scWhere: k => `${k} commune${k > 1 ? 's' : ''} whose access changes`, scNoChange: 'No commune sees its access change.', scTime: 'time', scWithin: c => `destinations within ${c} min:`, inhabitants: 'residents', scUnits: 'Numbers of residents (commune populations); time to the nearest destination.',
    noScenario: 'No scenario on this server: put JSON files in the scenarios/ folder or start terril serve --scenarios DIR; you can also pick a file below.',
    unreachable: 'unreachable', noneWithin: m => `none within ${m} min`, beyond: (a, m) => `beyond ${a} (up to ${m})`, exportCsv: 'Download (CSV)', exportGeojson: 'Download (GeoJSON, for QGIS)', faster: 'faster', slower: 'slower', unchanged: 'unchanged', legendTime: 'Time (min)', legendDiff: 'Change (min)',
    mapLib: 'The map cannot be shown (library missing); journeys still work.',
    modes: { rail: 'train', bus: 'bus', tram: 'tram', coach: 'coach', subway: 'metro', ferry: 'ferry', cable: 'cable car', other: 'vehicle', walk: 'walk', bike: 'bike' },
  },
};
let lang = localStorage.getItem('terril-lang') || 'fr';
const t = (k, ...a) => { const v = T[lang][k]; return typeof v === 'function' ? v(...a) : (v ?? k); };
const $ = id => document.getElementById(id);
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const hm = iso => iso ? iso.slice(11, 16) : '';

async function api(path, opts) {
  let r;
  path += (path.includes('?') ? '&' : '?') + 'lang=' + lang;
  try { r = await fetch(path, opts); } catch { const e = new Error('network'); e.code = 'network'; throw e; }
  let j;
  try { j = await r.json(); } catch { throw new Error(r.statusText); }
  if (!r.ok) { const e = new Error(j.message || r.statusText); e.code = j.error; throw e; }
  return j;
}
// A server error as a person reads it: the server's sentence (in the page's language),
// or the page's own when the server could not be reached.
const errText = e => (T[lang].errors && T[lang].errors[e.code]) || e.message || T[lang].errors.other;

function applyI18n() {
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-i18n]').forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach(e => { e.placeholder = t(e.dataset.i18nPlaceholder); });
  $('lang').textContent = t('switchLang');
  $('lang').setAttribute('aria-label', lang === 'fr' ? 'Switch to English' : 'Passer en français');
  showNetwork();
}

// ---------- map ----------
let map = null, baseStreets = null, baseLines = null, tiles = null, drawn = null, legs = null;
const hasMap = typeof window.L !== 'undefined' && window.L;
function initMap(info) {
  if (!hasMap) { $('map').innerHTML = `<p class="error">${esc(t('mapLib'))}</p>`; return; }
  map = L.map('map', { zoomControl: true });
  const b = info.bbox;
  if (b) map.fitBounds([[b.min_lat, b.min_lon], [b.max_lat, b.max_lon]]);
  else map.setView([50.43, 2.83], 11);
  baseStreets = L.geoJSON(null, { style: { color: '#b8bec6', weight: 1, interactive: false } }).addTo(map);
  baseLines = L.geoJSON(null, { style: f => ({ color: '#' + (f.properties.color || '777777'), weight: 2, opacity: .7 }) }).addTo(map);
  drawn = L.featureGroup().addTo(map);
  legs = L.layerGroup().addTo(map);
  tiles = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', { attribution: '© OpenStreetMap', maxZoom: 19 });
  map.on('moveend', refreshBase);
  map.on('click', onMapClick);
  refreshBase();
}
let baseTimer = null;
function refreshBase() {
  clearTimeout(baseTimer);
  baseTimer = setTimeout(async () => {
    const b = map.getBounds(), z = map.getZoom();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(x => x.toFixed(5)).join(',');
    try {
      const [s, l] = await Promise.all([z >= 12 ? api(`/api/map/streets?bbox=${bbox}&zoom=${z}`) : null, api(`/api/map/lines?bbox=${bbox}`)]);
      baseStreets.clearLayers(); if (s) baseStreets.addData(s);
      baseLines.clearLayers(); baseLines.addData(l);
    } catch (e) { /* the background is a nicety */ }
  }, 150);
}

// ---------- header ----------
let info = null;
function showNetwork() {
  if (!info) return;
  const el = $('network');
  el.classList.toggle('demo', !!info.demo);
  const streets = info.has_streets ? '' : ` — ${t('noStreets')}`;
  el.textContent = info.demo ? t('demo') : `${t('network')} : ${info.title} — ${t('validity', info.validity_start, info.validity_end)}${streets}`;
}
function defaultDate() {
  const today = new Date().toISOString().slice(0, 10);
  if (info && today >= info.validity_start && today <= info.validity_end) return today;
  // First Tuesday of the validity.
  const d = new Date(info.validity_start + 'T12:00:00Z');
  while (d.getUTCDay() !== 2) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// ---------- tabs ----------
let view = 'journey';
function showView(v) {
  view = v;
  document.querySelectorAll('nav [role=tab]').forEach(b => b.setAttribute('aria-selected', String(b.dataset.view === v)));
  document.querySelectorAll('.view').forEach(f => { f.hidden = f.id !== 'view-' + v; });
  if (drawn) drawn.clearLayers();
  if (legs) legs.clearLayers();
  $('legend').hidden = true;
  const u = new URLSearchParams(location.search);
  if (v === 'journey') u.delete('view'); else { u.set('view', v); }
  if (u.get('view') !== null && v !== 'journey') ['from', 'to', 'fl', 'tl'].forEach(k => u.delete(k));
  history.replaceState(null, '', u.toString() ? '?' + u : location.pathname);
}

// Every journey search is in the address: a link opens the same search.
function journeyToUrl(from, to) {
  const arrive = document.querySelector('input[name=when]:checked').value === 'arrive';
  const u = new URLSearchParams({ from, to, fl: $('from').value, tl: $('to').value, date: $('date').value, time: $('time').value, maxwalk: $('maxwalk').value });
  if (arrive) u.set('arrive', '1');
  if ($('walkonly').checked) u.set('walkonly', '1');
  if ($('bike').checked) u.set('bike', '1');
  if ($('wheelchair').checked) u.set('wheelchair', '1');
  history.replaceState(null, '', '?' + u);
}
// The other views: their fields, by id, are the address's parameters once drawn.
const VIEW_FIELDS = {
  iso: ['iso', 'iso-mode', 'iso-date', 'iso-time', 'iso-window', 'iso-cutoffs'],
  access: ['acc-dest', 'acc-type', 'acc-orig', 'acc-date', 'acc-window', 'acc-cutoff'],
  scenario: ['sc-pick', 'sc-dest', 'sc-date', 'sc-window'],
};
function viewToUrl(v) {
  const u = new URLSearchParams({ view: v });
  VIEW_FIELDS[v].forEach(id => u.set(id, $(id).value));
  if (v === 'iso' && places.iso) u.set('iso-at', places.iso);
  history.replaceState(null, '', '?' + u);
}
// Fills a view from the address; true when it holds a complete search to run.
function viewFromUrl(v, u) {
  const ids = VIEW_FIELDS[v];
  if (!ids || !ids.every(id => u.has(id))) return false;
  ids.forEach(id => {
    const el = $(id), val = u.get(id);
    if (el.tagName === 'SELECT' && ![...el.options].some(o => o.value === val)) return;
    el.value = val;
  });
  if (v === 'iso') places.iso = u.get('iso-at') || null;
  return true;
}
// Returns the submit handler of the search the address holds, if any.
function journeyFromUrl() {
  const u = new URLSearchParams(location.search);
  const v = u.get('view');
  if (v && VIEW_FIELDS[v]) {
    showView(v);
    if (viewFromUrl(v, u)) { viewToUrl(v); return { iso: drawIso, access: drawAccess, scenario: runScenario }[v]; }
    return null;
  }
  if (!u.get('from') || !u.get('to')) return null;
  for (const w of ['from', 'to']) {
    $(w).value = u.get(w[0] + 'l') || u.get(w);
    places[w] = u.get(w);
  }
  if (u.get('date')) $('date').value = u.get('date');
  if (u.get('time')) $('time').value = u.get('time');
  if (u.get('maxwalk') && [...$('maxwalk').options].some(o => o.value === u.get('maxwalk'))) $('maxwalk').value = u.get('maxwalk');
  document.querySelector(`input[name=when][value=${u.get('arrive') ? 'arrive' : 'depart'}]`).checked = true;
  $('walkonly').checked = !!u.get('walkonly');
  $('bike').checked = !!u.get('bike');
  $('wheelchair').checked = !!u.get('wheelchair');
  return planJourney;
}

// ---------- journey ----------
const places = { from: null, to: null, iso: null };
const markers = {};
function setPlace(which, value, label) {
  places[which] = value;
  if (label !== undefined) $(which).value = label;
  if (hasMap && map) {
    if (markers[which]) markers[which].remove();
    const ll = typeof value === 'string' && value.includes(',') && !value.includes(':') ? value.split(',').map(Number) : null;
    if (ll) markers[which] = L.circleMarker(ll, { radius: 8, color: which === 'from' ? '#2e7d32' : '#c62828', fillOpacity: .9 }).addTo(map).bindTooltip(t(which));
  }
}
let suggestTimer = null;
function wireSuggest(which) {
  const input = $(which), list = $(which + '-list');
  input.addEventListener('input', () => {
    const q = input.value.trim();
    const hit = [...list.options].find(o => o.value === q);
    if (hit) { places[which] = hit.dataset.id; return; }
    places[which] = null;
    clearTimeout(suggestTimer);
    if (q.length < 2) return;
    suggestTimer = setTimeout(async () => {
      try {
        const found = await api(`/api/places?q=${encodeURIComponent(q)}&limit=8`);
        // "Lens — gare ou station", "Harnes — commune", "CENTRE HOSPITALIER DE LENS, Lens — hôpital".
        const label = h => `${h.name}${h.commune && h.commune.toLowerCase() !== h.name.toLowerCase() ? ', ' + h.commune : ''} — ${h.kind_label}`;
        list.innerHTML = found.map(h => `<option value="${esc(label(h))}" data-id="${esc(h.stop_id || `${h.lat.toFixed(6)},${h.lon.toFixed(6)}`)}"></option>`).join('');
        const exact = [...list.options].find(o => o.value === input.value.trim());
        if (exact) places[which] = exact.dataset.id;
      } catch { }
    }, 120);
  });
  input.addEventListener('change', () => {
    const hit = [...list.options].find(o => o.value === input.value.trim());
    if (hit) places[which] = hit.dataset.id;
  });
}
function onMapClick(e) {
  const v = `${e.latlng.lat.toFixed(5)},${e.latlng.lng.toFixed(5)}`;
  if (view === 'journey') {
    const which = !places.from ? 'from' : (!places.to ? 'to' : 'to');
    setPlace(which, v, t('mapPoint') + ` (${e.latlng.lat.toFixed(4)}, ${e.latlng.lng.toFixed(4)})`);
  } else if (view === 'iso') {
    setPlace('iso', v, t('mapPoint') + ` (${e.latlng.lat.toFixed(4)}, ${e.latlng.lng.toFixed(4)})`);
    if (markers.iso) markers.iso.remove();
    markers.iso = L.circleMarker(e.latlng, { radius: 8, color: '#000', fillOpacity: 1 }).addTo(map);
  }
}
function modeLabel(leg) {
  if (leg.mode === 'rail') return (leg.route && leg.route.agency && /TER|SNCF/i.test(leg.route.agency)) || /^ter:/.test(leg.route?.id || '') ? 'TER' : t('modes').rail;
  return t('modes')[leg.mode] || leg.mode;
}
function badge(leg) {
  const r = leg.route || {};
  const bg = r.color ? '#' + r.color : '#555', fg = r.text_color ? '#' + r.text_color : '#fff';
  const label = leg.mode === 'rail' ? `${modeLabel(leg)} ${r.short_name || ''}`.trim() : (r.short_name || modeLabel(leg));
  return `<span class="badge" data-mode="${esc(leg.mode)}" style="background:${esc(bg)};color:${esc(fg)}">${esc(label)}</span>`;
}
// Clock time of a leg, with "next day" when its date is after the searched date.
function at(iso) {
  const nd = lastPlan && iso && iso.slice(0, 10) > lastPlan.date ? t('nextDay') : '';
  return hm(iso) + nd;
}
// The streets a walk or ride follows, from OSM way names ("par rue de la Gare (350 m), ...").
function streets(l) {
  const s = (l.steps || []).filter(x => x.distance_m >= 20);
  if (!s.length) return '';
  const list = s.map(x => `${x.street || t('path')} (${Math.max(10, Math.round(x.distance_m / 10) * 10)} m)`).join(', ');
  return ` <span class="streets">${esc(t('stepStreets', list))}</span>`;
}
function steps(it) {
  const out = [];
  let prevEnd = null;
  it.legs.forEach(l => {
    const m = Math.max(1, Math.round(l.duration_s / 60));
    const to = l.to.name || t('yourDestination');
    if (l.route && prevEnd) {
      const wait = Math.round((Date.parse(l.start_time) - Date.parse(prevEnd)) / 60000);
      if (wait >= 1) out.push(`<li class="wait">${esc(t('stepWait', wait, l.from.name))}</li>`);
    }
    prevEnd = l.end_time;
    if (l.mode === 'walk' || l.mode === 'bike') {
      out.push(`<li>${at(l.start_time)} — ${esc(t(l.mode === 'walk' ? 'stepWalk' : 'stepBike', m, to))}${streets(l)}</li>`);
      return;
    }
    const n = (l.intermediate_stops || []).length + 1;
    const line = l.route ? (l.route.short_name || l.route.long_name) : '';
    out.push(`<li>${at(l.start_time)} — ${badge(l)} ${esc(t('stepBoard', l.from.name + (l.from.platform ? t('platform', l.from.platform) : ''), modeLabel(l), line, l.direction || l.headsign || '', l.to.name, n, at(l.end_time)))}</li>`);
  });
  return '<ol class="steps">' + out.join('') + '</ol>';
}
// Minutes spent waiting: the trip's duration less its legs.
const waitMin = it => Math.max(0, Math.round((it.duration_s - it.legs.reduce((a, l) => a + l.duration_s, 0)) / 60));
// A small route map that prints: the legs as an SVG, no tiles.
function sheetMap(it) {
  const pts = it.legs.flatMap(l => l.geometry.coordinates || []);
  if (pts.length < 2) return '';
  const lat0 = pts.reduce((a, p) => a + p[1], 0) / pts.length, k = Math.cos(lat0 * Math.PI / 180);
  const xs = pts.map(p => p[0] * k), ys = pts.map(p => -p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const W = 600, H = 300, pad = 30, s = Math.min((W - 2 * pad) / Math.max(x1 - x0, 1e-6), (H - 2 * pad) / Math.max(y1 - y0, 1e-6));
  const P = c => [(pad + (c[0] * k - x0) * s).toFixed(1), (pad + (-c[1] - y0) * s).toFixed(1)];
  let g = '';
  it.legs.forEach(l => {
    const c = (l.geometry.coordinates || []).map(P);
    if (c.length < 2) return;
    g += `<polyline points="${c.map(p => p.join(',')).join(' ')}" fill="none" stroke="${esc(legColor(l))}" stroke-width="${l.route ? 5 : 3}" ${l.route ? '' : 'stroke-dasharray="6 5"'}/>`;
    if (l.route) {
      const [a, b] = [c[0], c[c.length - 1]];
      // Names written towards the middle, so that they stay inside the frame.
      const label = (q, name, dy) => `<text x="${+q[0] + (q[0] > W / 2 ? -8 : 8)}" y="${+q[1] + dy}" font-size="13" text-anchor="${q[0] > W / 2 ? 'end' : 'start'}">${esc(name)}</text>`;
      g += `<circle cx="${a[0]}" cy="${a[1]}" r="4" fill="#fff" stroke="#000"/>` + label(a, l.from.name, -8);
      g += `<circle cx="${b[0]}" cy="${b[1]}" r="4" fill="#fff" stroke="#000"/>` + label(b, l.to.name, 18);
    }
  });
  const [s0, s1] = [P(pts[0]), P(pts[pts.length - 1])];
  g += `<circle cx="${s0[0]}" cy="${s0[1]}" r="7" fill="#2e7d32"/><circle cx="${s1[0]}" cy="${s1[1]}" r="7" fill="#c62828"/>`;
  // A scale bar (a round length of 60-150 px) and the key, so that the map reads alone.
  const pxPerKm = s / 111.32, km = [0.2, 0.5, 1, 2, 5, 10, 20, 50].find(x => x * pxPerKm >= 60) || 50, bar = km * pxPerKm;
  g += `<g font-size="12"><line x1="${W - pad - bar}" y1="${H - 10}" x2="${W - pad}" y2="${H - 10}" stroke="#000" stroke-width="2"/><text x="${W - pad - bar / 2}" y="${H - 14}" text-anchor="middle">${km < 1 ? km * 1000 + ' m' : km + ' km'}</text>`;
  g += `<circle cx="12" cy="${H - 14}" r="5" fill="#2e7d32"/><text x="20" y="${H - 10}">${esc(t('sheetFrom'))}</text><circle cx="90" cy="${H - 14}" r="5" fill="#c62828"/><text x="98" y="${H - 10}">${esc(t('sheetTo'))}</text>`;
  g += `<line x1="170" y1="${H - 14}" x2="196" y2="${H - 14}" stroke="#444" stroke-width="3" stroke-dasharray="6 5"/><text x="202" y="${H - 10}">${esc(t('modes').walk)}</text></g>`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t('sheetTitle'))}">${g}</svg>`;
}
// The printable sheet of one itinerary: stands alone (date, places, steps, map, sources).
function fillSheet(it) {
  if (!lastPlan || !it) return;
  const p = lastPlan;
  const day = new Date(p.date + 'T12:00:00').toLocaleDateString(t('locale'), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const mins = Math.round(it.duration_s / 60);
  const now = new Date().toLocaleDateString(t('locale'));
  $('sheet').innerHTML = `<h1>${esc(t('sheetTitle'))}</h1>
    <p class="when">${esc(t('sheetWhen', day, p.arrive_by, p.time))}</p>
    <p class="places"><b>${esc(t('sheetFrom'))} :</b> ${esc($('from').value || p.from.name)}<br><b>${esc(t('sheetTo'))} :</b> ${esc($('to').value || p.to.name)}</p>
    <p class="totals"><b>${at(it.start_time)} → ${at(it.end_time)}</b> — ${esc(t('sheetTotals', t('duration', mins), t('changes', it.transfers), t('walkMin', Math.round(it.walk_duration_s / 60)).replace(/ à pied| walking/, ''), waitMin(it)))}</p>
    ${steps(it)}
    ${sheetMap(it)}
    <p class="small">${esc(t('sheetSource', info ? info.title || 'terril' : 'terril', info ? info.validity_start : '', info ? info.validity_end : '', now))}</p>`;
}
let selected = null;
window.addEventListener('beforeprint', () => fillSheet(selected));
function card(it, i, kind) {
  const mins = Math.round(it.duration_s / 60);
  const rides = it.legs.filter(l => l.route);
  const head = kind ? `<span class="badge">${esc(kind)}</span>` : rides.map(badge).join('');
  // The summary is the card's button (keyboard and screen readers); the print button sits
  // beside it in the detail, never inside another control.
  return `<div class="card" data-i="${i}">
    <button type="button" class="pick" aria-expanded="false">
      <span class="times">${hm(it.start_time)} → ${hm(it.end_time)}</span>
      <span class="heads">${head}</span>
      <span class="meta">${esc(t('duration', mins))} · ${esc(t('changes', it.transfers))} · ${esc(t('walkMin', Math.round(it.walk_duration_s / 60)))}</span>
    </button>
    <div class="detail" hidden>${steps(it)}<button type="button" class="print">${esc(t('print'))}</button></div>
  </div>`;
}
const legColor = l => l.route && l.route.color ? '#' + l.route.color : (l.mode === 'walk' ? '#444' : l.mode === 'bike' ? '#2e7d32' : '#0b5cad');
function drawItinerary(it) {
  if (!hasMap || !map) return;
  legs.clearLayers();
  const all = [];
  it.legs.forEach(l => {
    const ll = (l.geometry.coordinates || []).map(c => [c[1], c[0]]);
    all.push(...ll);
    L.polyline(ll, { color: legColor(l), weight: l.route ? 6 : 4, dashArray: l.route ? null : '6 6' }).addTo(legs);
  });
  if (all.length) map.fitBounds(all, { padding: [30, 30] });
}
let lastPlan = null;
async function planJourney(ev) {
  ev.preventDefault();
  const out = $('journey-results');
  const from = places.from || $('from').value.trim(), to = places.to || $('to').value.trim();
  if (!from) { out.innerHTML = `<p class="error">${esc(t('chooseFrom'))}</p>`; return; }
  if (!to) { out.innerHTML = `<p class="error">${esc(t('chooseTo'))}</p>`; return; }
  const arrive = document.querySelector('input[name=when]:checked').value === 'arrive';
  const modes = $('walkonly').checked ? 'walk' : ($('bike').checked ? 'transit,bike' : 'transit');
  const q = new URLSearchParams({ from, to, date: $('date').value, time: $('time').value, arrive_by: arrive, modes, wheelchair: $('wheelchair').checked, max_walk: $('maxwalk').value });
  out.textContent = t('searching');
  journeyToUrl(from, to);
  try {
    const p = await api('/api/plan?' + q);
    lastPlan = p;
    const its = p.itineraries.map((it, i) => card(it, i)).join('');
    const direct = p.direct.map((it, i) => card(it, 'd' + i, it.legs[0].mode === 'walk' ? t('walkAll') : t('bikeAll'))).join('');
    let html = '';
    if (p.reason === 'no_transit_within_walk') html += `<p class="notice" role="alert">${esc(t('walkExtended', $('maxwalk').value, p.walk_extended_min))}</p>`;
    else if (!p.itineraries.length) html += `<p class="error" role="alert">${esc(arrive ? t('noJourneyArrive', $('time').value) : t('noJourneyDepart', $('time').value))}</p>`;
    html += its;
    if (direct) html += `<h3>${esc(t('direct'))}</h3>` + direct;
    out.innerHTML = html;
    out.querySelectorAll('.card').forEach(c => {
      const pick = () => {
        out.querySelectorAll('.card').forEach(o => { o.classList.remove('selected'); o.querySelector('.pick').setAttribute('aria-expanded', 'false'); o.querySelector('.detail').hidden = true; });
        c.classList.add('selected');
        c.querySelector('.pick').setAttribute('aria-expanded', 'true');
        c.querySelector('.detail').hidden = false;
        const i = c.dataset.i;
        selected = i.startsWith('d') ? p.direct[+i.slice(1)] : p.itineraries[+i];
        drawItinerary(selected);
        fillSheet(selected);
      };
      c.addEventListener('click', e => { if (e.target.classList.contains('print')) { fillSheet(selected); window.print(); return; } pick(); });
    });
    const first = out.querySelector('.card .pick');
    if (first) first.click();
  } catch (e) {
    lastPlan = null;
    if (hasMap && map) legs.clearLayers();
    out.innerHTML = `<p class="error" role="alert">${esc(errText(e))}</p>`;
  }
}

// ---------- isochrone ----------
const ISO_COLORS = ['#1a9850', '#91cf60', '#fee08b', '#fc8d59', '#d73027', '#7f0000'];
function legend(title, rows) {
  const el = $('legend');
  el.innerHTML = `<strong>${esc(title)}</strong><br>` + rows.map(([c, l]) => `<div><i style="background:${c}"></i>${esc(l)}</div>`).join('');
  el.hidden = false;
}
async function drawIso(ev) {
  ev.preventDefault();
  const out = $('iso-results');
  const origin = places.iso || $('iso').value.trim();
  if (!origin) { out.innerHTML = `<p class="error" role="alert">${esc(t('clickOrigin'))}</p>`; return; }
  viewToUrl('iso');
  const cutoffs = $('iso-cutoffs').value;
  const q = new URLSearchParams({ from: origin, date: $('iso-date').value, time: $('iso-time').value, window: $('iso-window').value, cutoffs, mode: $('iso-mode').value });
  out.textContent = t('searching');
  try {
    const gj = await api('/api/isochrone?' + q);
    drawn.clearLayers();
    const feats = gj.features.slice().reverse();
    const n = gj.features.length;
    feats.forEach((f, k) => {
      const i = n - 1 - k;
      L.geoJSON(f, { style: { color: ISO_COLORS[i % 6], weight: 1, fillColor: ISO_COLORS[i % 6], fillOpacity: .35 } }).addTo(drawn);
    });
    legend(t('legendTime'), gj.features.map((f, i) => [ISO_COLORS[i % 6], `≤ ${f.properties.cutoff_min} ${t('minutes')} (${f.properties.area_km2} km²)`]));
    out.innerHTML = `<p>${gj.features.map(f => `≤ ${f.properties.cutoff_min} min : ${f.properties.area_km2} km²`).join('<br>')}</p>`;
    exportBar(out, 'iso-exp', gj, `isochrone-${$('iso-date').value}-${$('iso-time').value.replace(':', 'h')}`, `${t('tabIso')} — ${$('iso').value} — ${$('iso-date').value} ${$('iso-time').value}`);
  } catch (e) { out.innerHTML = `<p class="error" role="alert">${esc(errText(e))}</p>`; }
}

// ---------- accessibility ----------
const TIME_BINS = [[15, '#1a9850'], [30, '#91cf60'], [45, '#fee08b'], [60, '#fc8d59'], [Infinity, '#d73027']];
// Times to the nearest destination are computed to this many minutes whatever the
// threshold: "beyond 60" and "none within 120" are two classes.
const ACCESS_MAX_MIN = 120;
// A file the browser saves: the answer as the planner's tools read it.
function download(name, type, data) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
// A view's features as CSV: every attribute, and lon/lat for points.
function featuresCsv(fc) {
  const keys = [...new Set(fc.features.flatMap(f => Object.keys(f.properties || {})))];
  const cols = [...['id', 'label'].filter(k => keys.includes(k)), ...keys.filter(k => k !== 'id' && k !== 'label')];
  const points = fc.features.every(f => f.geometry?.type === 'Point');
  const cell = v => v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v);
  const head = points ? ['lon', 'lat', ...cols] : cols;
  return [head.join(','), ...fc.features.map(f => [...(points ? f.geometry.coordinates.slice(0, 2) : []), ...cols.map(c => f.properties?.[c])].map(cell).join(','))].join('\n') + '\n';
}
// The downloads of a view: CSV, GeoJSON, FlatGeobuf (written by the server from the same
// features) and a PNG of the map; buttons `${id}-csv`, `-geojson`, `-fgb`, `-png`.
function exportBar(out, id, fc, stem, title) {
  out.insertAdjacentHTML('beforeend', `<p class="exports"><button type="button" id="${id}-csv">${esc(t('exportCsv'))}</button> <button type="button" id="${id}-geojson">${esc(t('exportGeojson'))}</button> <button type="button" id="${id}-fgb">${esc(t('exportFgb'))}</button> <button type="button" id="${id}-png">${esc(t('exportPng'))}</button></p><p id="${id}-status" aria-live="polite"></p>`);
  $(id + '-csv').addEventListener('click', () => download(stem + '.csv', 'text/csv', featuresCsv(fc)));
  $(id + '-geojson').addEventListener('click', () => download(stem + '.geojson', 'application/geo+json', JSON.stringify(fc)));
  $(id + '-png').addEventListener('click', () => mapPng(stem + '.png', title));
  $(id + '-fgb').addEventListener('click', async () => {
    const st = $(id + '-status');
    try {
      const res = await fetch('/api/export/fgb?lang=' + lang, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fc) });
      if (!res.ok) { const j = await res.json().catch(() => ({})); const e = new Error(j.message || res.statusText); e.code = j.error; throw e; }
      download(stem + '.fgb', '', await res.blob());
      st.textContent = t('fileDone');
    } catch (e) { st.innerHTML = `<span class="error" role="alert">${esc(errText(e))}</span>`; }
  });
}
// The destination types of the chosen set (`only=COLUMN=VALUE`), from /api/opportunities.
let opportunitySets = [];
function fillTypes() {
  const set = opportunitySets.find(s => s.name === $('acc-dest').value);
  const groups = (set?.filters || []).map(f => `<optgroup label="${esc(f.column)}">${f.values.map(v => `<option value="${esc(f.column + '=' + v)}">${esc(v)}</option>`).join('')}</optgroup>`);
  const keep = $('acc-type').value;
  $('acc-type').innerHTML = `<option value="" data-i18n="allTypes">${esc(t('allTypes'))}</option>` + groups.join('');
  if ([...$('acc-type').options].some(o => o.value === keep)) $('acc-type').value = keep;
}
// The map as the page shows it, drawn into a PNG: the drawn layers (Leaflet's SVG, tiles
// left out), a title, the legend and a scale.
async function mapPng(name, title) {
  if (!hasMap) return;
  const box = $('map').getBoundingClientRect();
  const legendRows = [...$('legend').querySelectorAll('div')].map(d => [d.querySelector('i')?.style.background || '#000', d.textContent]);
  const pad = 24 * legendRows.length + 70;
  const c = document.createElement('canvas');
  c.width = Math.round(box.width); c.height = Math.round(box.height) + pad;
  const g = c.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
  for (const svg of document.querySelectorAll('#map .leaflet-overlay-pane svg')) {
    const r = svg.getBoundingClientRect();
    const xml = new XMLSerializer().serializeToString(svg);
    const img = new Image();
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml.includes('xmlns=') ? xml : xml.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"'));
    await img.decode();
    g.drawImage(img, r.left - box.left, r.top - box.top, r.width, r.height);
  }
  g.fillStyle = '#111'; g.font = 'bold 16px sans-serif';
  g.fillText(title, 12, box.height + 24);
  g.font = '14px sans-serif';
  legendRows.forEach(([col, label], i) => {
    g.fillStyle = col; g.fillRect(12, box.height + 38 + 24 * i, 14, 14);
    g.fillStyle = '#111'; g.fillText(label, 32, box.height + 50 + 24 * i);
  });
  // Scale: metres per pixel at the map's centre.
  const ctr = map.getCenter(), p = map.latLngToContainerPoint(ctr);
  const mpp = ctr.distanceTo(map.containerPointToLatLng([p.x + 100, p.y])) / 100;
  const km = [1, 2, 5, 10, 20, 50].find(k => k * 1000 / mpp >= 60) || 50;
  const px = km * 1000 / mpp, x0 = c.width - px - 16, y0 = box.height + 30;
  g.fillStyle = '#111'; g.fillRect(x0, y0, px, 3); g.fillText(`${km} km`, x0 + px / 2 - 14, y0 - 6);
  download(name, 'image/png', await new Promise(res => c.toBlob(res, 'image/png')));
}
async function drawAccess(ev) {
  ev.preventDefault();
  const out = $('access-results');
  viewToUrl('access');
  const cutoff = +$('acc-cutoff').value || 30;
  const q = new URLSearchParams({ origins: $('acc-orig').value, destinations: $('acc-dest').value, date: $('acc-date').value, window: $('acc-window').value, cutoffs: `${Math.min(cutoff, ACCESS_MAX_MIN)},${Math.min(Math.max(cutoff * 2, 60), ACCESS_MAX_MIN)}`, max_trip_duration: ACCESS_MAX_MIN, mode: 'transit' });
  if ($('acc-type').value) q.set('only', $('acc-type').value);
  out.textContent = t('searching');
  try {
    const r = await api('/api/access/map?' + q);
    drawn.clearLayers();
    const col = r.indicator;
    r.features.features.forEach(f => {
      const v = f.properties[col];
      const c = v === null ? '#555' : TIME_BINS.find(b => v <= b[0])[1];
      const [lon, lat] = f.geometry.coordinates;
      if (hasMap) L.circleMarker([lat, lon], { radius: 7, color: '#333', weight: 1, fillColor: c, fillOpacity: .85 })
        .bindTooltip(`${esc(f.properties.label || f.properties.id)} : ${v === null ? t('unreachable') : v + ' min'}`).addTo(drawn);
    });
    legend(t('legendTime'), [['#1a9850', '≤ 15'], ['#91cf60', '15–30'], ['#fee08b', '30–45'], ['#fc8d59', '45–60'], ['#d73027', t('beyond', 60, ACCESS_MAX_MIN)], ['#555', t('noneWithin', ACCESS_MAX_MIN)]]);
    if (hasMap && drawn.getLayers().length) map.fitBounds(drawn.getBounds(), { padding: [20, 20] });
    const all = r.summary.find(s => s.group === 'all');
    if (all) {
      const within = all.share_within.find(x => x[0] === cutoff);
      const over = within ? Math.round((1 - within[1]) * 1000) / 10 : null;
      out.innerHTML = `<p class="summary"><strong>${esc(t('within', over, cutoff, t('nearestOf')))}</strong></p><p>${esc(lang === 'fr' ? 'Temps médian' : 'Median time')} : ${all.median_min ?? '> ' + ACCESS_MAX_MIN} min</p>`;
    }
    const stem = `acces-${r.origins}-${r.destinations}-${$('acc-date').value}`;
    const typeName = $('acc-type').value ? $('acc-type').selectedOptions[0].textContent : r.destinations;
    exportBar(out, 'exp', r.features, stem, `${t('tabAccess')} — ${typeName} — ${$('acc-date').value} ${$('acc-window').value}`);
    out.insertAdjacentHTML('beforeend', `<p class="exports"><button type="button" id="exp-report">${esc(t('exportReport'))}</button> <button type="button" id="exp-communes">${esc(t('exportCommunes'))}</button> <button type="button" id="exp-communes-fgb">${esc(t('exportCommunesFgb'))}</button></p><p id="report-status" aria-live="polite"></p>`);
    // The health report of `terril report health`: the same day, window and destinations,
    // thresholds 30/45/60 and the one chosen here.
    const rq = new URLSearchParams({ destinations: r.destinations, date: $('acc-date').value, window: $('acc-window').value, cutoffs: [...new Set([30, 45, 60, Math.min(cutoff, ACCESS_MAX_MIN)])].sort((a, b) => a - b).join(','), lang });
    if ($('acc-type').value) rq.set('only', $('acc-type').value);
    // A file the server makes (a report, FlatGeobuf), saved as it comes.
    const serverFile = async (path, params, name, wait, done) => {
      const st = $('report-status');
      st.textContent = wait;
      try {
        const res = await fetch(path + '?' + params);
        if (!res.ok) { const j = await res.json().catch(() => ({})); const e = new Error(j.message || res.statusText); e.code = j.error; throw e; }
        download(name, '', await res.blob());
        st.textContent = done;
      } catch (e) { st.innerHTML = `<span class="error" role="alert">${esc(errText(e))}</span>`; }
    };
    const day = $('acc-date').value;
    $('exp-report').addEventListener('click', () => serverFile('/api/report/health', rq, `rapport-sante-${day}.html`, t('reportWait'), t('reportDone')));
    $('exp-communes').addEventListener('click', () => serverFile('/api/report/health.csv', rq, `rapport-sante-communes-${day}.csv`, t('reportWait'), t('fileDone')));
    $('exp-communes-fgb').addEventListener('click', () => serverFile('/api/report/health.fgb', rq, `rapport-sante-communes-${day}.fgb`, t('reportWait'), t('fileDone')));
  } catch (e) { out.innerHTML = `<p class="error" role="alert">${esc(errText(e))}</p>`; }
}

// ---------- scenario ----------
async function runScenario(ev) {
  ev.preventDefault();
  const out = $('scenario-results');
  viewToUrl('scenario');
  let scenario = $('sc-pick').value;
  const file = $('sc-file').files[0];
  if (file) { try { scenario = JSON.parse(await file.text()); } catch (e) { out.innerHTML = `<p class="error" role="alert">${esc(errText(e))}</p>`; return; } }
  const body = { scenario, origins: $('acc-orig').value || 'communes', destinations: $('sc-dest').value || 'hospitals', params: { date: $('sc-date').value, window: $('sc-window').value, cutoffs: '30,45,60' } };
  out.textContent = t('searching');
  try {
    const r = await api('/api/compare', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    drawn.clearLayers();
    const col = r.columns.find(c => c.startsWith('time_nearest_min')) || r.columns[0];
    r.origins.features.forEach(f => {
      const d = f.properties[col + '_diff'];
      const [b, a] = [f.properties[col + '_before'], f.properties[col + '_after']];
      // Gaining access (none before) is faster; losing it is slower.
      const c = b === null && a === null ? '#999' : b === null ? '#1a9850' : a === null ? '#d73027' : d < -0.05 ? '#1a9850' : d > 0.05 ? '#d73027' : '#d9d9d9';
      const [lon, lat] = f.geometry.coordinates;
      if (hasMap) L.circleMarker([lat, lon], { radius: 7, color: '#333', weight: 1, fillColor: c, fillOpacity: .85 })
        .bindTooltip(`${esc(f.properties.label || f.properties.id)} : ${f.properties[col + '_before'] ?? '—'} → ${f.properties[col + '_after'] ?? '—'} min`).addTo(drawn);
    });
    // The lines the scenario adds, drawn over the origins.
    (r.lines?.features || []).forEach(f => {
      if (hasMap) L.geoJSON(f, { style: { color: f.properties.color ? '#' + f.properties.color : '#6a1b9a', weight: 6, dashArray: '10 6' } })
        .bindTooltip(`${esc(t('newLine'))} ${esc(f.properties.short_name || f.properties.route_id)}`).addTo(drawn);
    });
    legend(t('legendDiff'), [['#1a9850', t('faster')], ['#d73027', t('slower')], ['#d9d9d9', t('unchanged')], ['#999', t('noAccessEither')], ...((r.lines?.features || []).length ? [['#6a1b9a', t('newLine')]] : [])]);
    if (hasMap && drawn.getLayers().length) map.fitBounds(drawn.getBounds(), { padding: [20, 20] });
    const n = x => Math.round(x).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB');
    const rows = r.summary.per_cutoff.map(c => `<tr><td>≤ ${c.cutoff_min} min</td><td>+${n(c.gaining)}</td><td>−${n(c.losing)}</td><td>${n(c.reaching_more)}</td><td>${n(c.reaching_fewer)}</td></tr>`).join('');
    const head = `<th>${esc(t('scCutoff'))}</th><th>${esc(t('scGain'))}</th><th>${esc(t('scLose'))}</th><th>${esc(t('scMore'))}</th><th>${esc(t('scFewer'))}</th>`;
    // The origins (communes) whose results change, named: time to the nearest and
    // destinations within the first cutoff, before -> after.
    const fmtT = v => v === null || v === undefined ? '—' : `${Math.round(v)} min`;
    const changed = r.origins.features.filter(f => r.columns.some(c => {
      const [b, a] = [f.properties[c + '_before'], f.properties[c + '_after']];
      return (b === null) !== (a === null) || (b !== null && Math.abs(a - b) > 1e-9);
    })).sort((x, y) => (y.properties.population || 0) - (x.properties.population || 0));
    const item = f => {
      const p = f.properties, parts = [];
      if (p[col + '_before'] !== p[col + '_after']) parts.push(`${esc(t('scTime'))} ${fmtT(p[col + '_before'])} → ${fmtT(p[col + '_after'])}`);
      r.columns.filter(c => c.includes('_within_') && p[c + '_before'] !== p[c + '_after']).slice(0, 2)
        .forEach(c => parts.push(`${esc(t('scWithin', c.match(/_within_(\d+)min/)?.[1] || ''))} ${n(p[c + '_before'] ?? 0)} → ${n(p[c + '_after'] ?? 0)}`));
      return `<li><b>${esc(p.label || p.id)}</b> : ${parts.join(' ; ')}</li>`;
    };
    const changes = changed.length
      ? `<h2 class="sub">${esc(t("scWhere", changed.length))}</h2><ul class="changes">${changed.slice(0, 15).map(item).join('')}</ul>`
      : `<p>${esc(t('scNoChange'))}</p>`;
    const text = r.text.split(/\n(?=Scenario ')/);
    out.innerHTML = `<p class="note">${esc(t('scUnits'))}</p><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>${changes}<pre class="summary">${esc(lang === 'fr' ? text[0] : (text[1] || text[0]))}</pre>`;
    exportBar(out, 'sc-exp', r.origins, `scenario-${r.scenario}-${$('sc-date').value}`.replace(/[^\w.-]+/g, '-'), `${t('tabScenario')} — ${r.scenario} — ${$('sc-date').value}`);
  } catch (e) { out.innerHTML = `<p class="error" role="alert">${esc(errText(e))}</p>`; }
}

// ---------- start ----------
async function start() {
  document.querySelectorAll('nav [role=tab]').forEach(b => b.addEventListener('click', () => showView(b.dataset.view)));
  $('lang').addEventListener('click', () => { lang = lang === 'fr' ? 'en' : 'fr'; localStorage.setItem('terril-lang', lang); applyI18n(); });
  $('large').addEventListener('change', e => document.body.classList.toggle('large', e.target.checked));
  $('tiles').addEventListener('change', e => { if (!tiles) return; if (e.target.checked) tiles.addTo(map); else tiles.remove(); });
  $('view-journey').addEventListener('submit', planJourney);
  $('view-iso').addEventListener('submit', drawIso);
  $('view-access').addEventListener('submit', drawAccess);
  $('view-scenario').addEventListener('submit', runScenario);
  wireSuggest('from'); wireSuggest('to'); wireSuggest('iso');
  info = await api('/api/info');
  ['date', 'iso-date', 'acc-date', 'sc-date'].forEach(id => { $(id).value = defaultDate(); $(id).min = info.validity_start; $(id).max = info.validity_end; });
  applyI18n();
  initMap(info);
  try {
    const sets = await api('/api/opportunities');
    opportunitySets = sets;
    const dest = sets.filter(s => s.name !== 'communes' && s.name !== 'neighbourhoods');
    const orig = sets.filter(s => s.columns.includes('population'));
    $('acc-dest').innerHTML = dest.map(s => `<option value="${esc(s.name)}">${esc(s.name)}</option>`).join('');
    $('sc-dest').innerHTML = $('acc-dest').innerHTML;
    $('acc-orig').innerHTML = orig.map(s => `<option value="${esc(s.name)}">${esc(s.name)}</option>`).join('');
    fillTypes();
    $('acc-dest').addEventListener('change', fillTypes);
    const scs = await api('/api/scenarios');
    $('sc-pick').innerHTML = scs.filter(s => s.valid).map(s => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('');
    if (!scs.some(s => s.valid)) $('scenario-results').innerHTML = `<p class="notice">${esc(t('noScenario'))}</p>`;
  } catch { }
  const run = journeyFromUrl();
  if (run) await run(new Event('submit'));
  document.body.dataset.ready = 'true';
}
start();
