// Svelte compiler options (defaults are right for this app; the file silences the plugin's notice).
export default {};
