/**
 * The interactive documentation at /docs: one self-contained page (no CDN, no npm assets) that
 * fetches /openapi.json, lists every operation with its parameters and schemas, and sends requests
 * from a form. About 100 lines of plain DOM code, so it works offline and has nothing to update.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warehouse stock monitor API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1d232a}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd;text-transform:capitalize}
details{border:1px solid #d6dbe1;border-radius:6px;margin:.4rem 0;background:#fafbfc}
summary{cursor:pointer;padding:.45rem .6rem;font-family:ui-monospace,monospace}
.m{display:inline-block;width:4.2em;font-weight:700;text-transform:uppercase}.get{color:#0a6c3a}.post{color:#9a5b00}
.body{padding:.2rem .8rem .8rem}label{display:block;margin:.3rem 0}input,textarea{font:13px ui-monospace,monospace;width:100%;box-sizing:border-box}
pre{background:#11161c;color:#e6edf3;padding:.6rem;border-radius:4px;overflow:auto;max-height:28rem;white-space:pre-wrap}
button{margin-top:.4rem;padding:.3rem 1rem}small{color:#5b6670}
</style></head><body>
<h1 id="title">API</h1><p id="desc"></p>
<label>Bearer token for POST (API_WRITE_TOKEN) <input id="token" type="password" autocomplete="off"></label>
<div id="ops">Loading /openapi.json…</div>
<script>
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? (node.className = v) : node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const resolve = (doc, schema) => schema && schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
async function main() {
  const doc = await (await fetch('/openapi.json')).json();
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('desc').textContent = doc.info.description;
  const ops = document.getElementById('ops');
  ops.textContent = '';
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ['other'])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push({ path, method, op });
  }
  for (const [tag, list] of byTag) {
    ops.append(el('h2', {}, tag));
    for (const { path, method, op } of list) ops.append(operation(doc, path, method, op));
  }
}
function operation(doc, path, method, op) {
  const body = el('div', { class: 'body' });
  if (op.description) body.append(el('p', {}, op.description));
  const inputs = [];
  for (const p of op.parameters || []) {
    const input = el('input', { placeholder: p.schema && p.schema.default !== undefined ? 'default ' + p.schema.default : '' });
    inputs.push({ p, input });
    const kind = [p.in, p.schema && (p.schema.enum ? p.schema.enum.join(' | ') : p.schema.format || p.schema.type)].filter(Boolean).join(', ');
    body.append(el('label', {}, el('b', {}, p.name + (p.required ? ' *' : '')), ' ', el('small', {}, '(' + kind + ') ' + (p.description || '')), input));
  }
  let textarea;
  if (op.requestBody) {
    textarea = el('textarea', { rows: '10' });
    textarea.value = JSON.stringify({ movement_id: crypto.randomUUID(), warehouse_id: crypto.randomUUID(), timestamp: new Date().toISOString(),
      event: 'arrival', product_id: crypto.randomUUID(), quantity: 100 }, null, 2);
    body.append(el('label', {}, el('b', {}, 'body (application/json)'), textarea));
  }
  const out = el('pre', {}, '');
  const button = el('button', {}, 'Send');
  button.onclick = async () => {
    let url = path;
    const query = new URLSearchParams();
    for (const { p, input } of inputs) {
      if (!input.value) continue;
      if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(input.value));
      else if (p.in === 'query') query.set(p.name, input.value);
    }
    if ([...query].length) url += '?' + query;
    if (path.endsWith('/stream')) { out.textContent = 'Open ' + url + ' with EventSource or curl -N; streams never end.'; return; }
    const headers = { accept: 'application/json' };
    for (const { p, input } of inputs) if (p.in === 'header' && input.value) headers[p.name] = input.value;
    const token = document.getElementById('token').value;
    if (token && method === 'post') headers.authorization = 'Bearer ' + token;
    if (textarea) headers['content-type'] = 'application/json';
    const started = performance.now();
    try {
      const res = await fetch(url, { method: method.toUpperCase(), headers, body: textarea ? textarea.value : undefined });
      const text = await res.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
      out.textContent = method.toUpperCase() + ' ' + url + '\\n' + res.status + ' ' + res.statusText + ' (' + Math.round(performance.now() - started) + ' ms)\\n\\n' + shown;
    } catch (error) { out.textContent = String(error); }
  };
  body.append(button, out);
  const schemas = el('details', {}, el('summary', {}, 'response schemas'));
  for (const [status, response] of Object.entries(op.responses || {})) {
    const content = Object.entries(response.content || {})[0];
    const schema = content && resolve(doc, content[1].schema);
    schemas.append(el('p', {}, el('b', {}, status), ' ' + response.description + (content ? ' [' + content[0] + ']' : '')));
    if (schema) schemas.append(el('pre', {}, JSON.stringify(schema, null, 2)));
  }
  body.append(schemas);
  return el('details', {}, el('summary', {}, el('span', { class: 'm ' + method }, method), path, ' ', el('small', {}, op.summary || '')), body);
}
main().catch((error) => { document.getElementById('ops').textContent = 'Could not load /openapi.json: ' + error; });
</script></body></html>
`;
