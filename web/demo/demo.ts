// The demo page: hands the typed-in token to both components (the bell and the inline list).
const form = document.getElementById('connect') as HTMLFormElement;
const tokenInput = document.getElementById('token') as HTMLInputElement;
const langSelect = document.getElementById('lang') as HTMLSelectElement;

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) return;
  for (const el of document.querySelectorAll('herald-inbox')) {
    el.setAttribute('lang', langSelect.value);
    (el as HTMLElement & { token?: () => Promise<string> }).token = async () => token;
  }
});
