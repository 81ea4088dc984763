// Runs once when the conversation component mounts (gr.HTML js_on_load in ui/web.py; `element` is that
// component): one delegated click handler. It only moves already escaped HTML into the source panel and
// copies Markdown to the clipboard.
const panelBody = () => document.getElementById('vb-panel-body');
function show(target) {
  const src = element.querySelector('#' + CSS.escape(target.dataset.src));
  const body = panelBody();
  if (!src || !body) return;
  body.innerHTML = src.innerHTML;  // pre-rendered server-side, every document string escaped
  element.querySelectorAll('.vb-active').forEach((x) => x.classList.remove('vb-active'));
  target.classList.add('vb-active');
  body.closest('.vb-panel').scrollIntoView({block: 'nearest'});
}
function copy(button) {
  const md = button.parentElement.querySelector('textarea.vb-md').value;
  const done = () => {
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy as Markdown'; }, 1500);
  };
  const fallback = () => {
    const t = document.createElement('textarea'); t.value = md; document.body.appendChild(t); t.select();
    try { document.execCommand('copy'); done(); } finally { t.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(md).then(done, fallback);
  else fallback();
}
element.addEventListener('click', (ev) => {
  const target = ev.target.closest('[data-src]');
  if (target && element.contains(target)) { ev.preventDefault(); show(target); return; }
  const button = ev.target.closest('.vb-copy');
  if (button && element.contains(button)) { ev.preventDefault(); copy(button); }
});
element.addEventListener('keydown', (ev) => {
  const target = ev.target.closest('[data-src]');
  if (target && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); show(target); }
});
(function autoDir(tries) {  // the question box may render after this component: retry for a few seconds
  const q = document.querySelector('#vb-question textarea');
  if (q) q.setAttribute('dir', 'auto');
  else if (tries > 0) setTimeout(() => autoDir(tries - 1), 100);
})(100);
