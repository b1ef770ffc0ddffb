import { render } from 'preact';
import { App } from './app.js';
import { interceptLinks } from './navigation.js';
import './styles.css';

/** The console's entry point (bundled by ../build.ts): renders the app into the page's #app. */

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
  // Links inside the console change the view without a reload (navigation.ts).
  document.addEventListener('click', interceptLinks);
}
