import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { captureToken } from './lib/api.js';

captureToken();
mount(App, { target: document.getElementById('app') });
