import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { captureToken } from './lib/api.js';
import { loadMeta } from './lib/meta.svelte.js';

captureToken();
loadMeta();
mount(App, { target: document.getElementById('app') });
