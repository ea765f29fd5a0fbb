// The stated purpose: before any footage is shown the person says why (a category and
// their own words). It is asked once per review session, kept only in memory, and sent
// with every footage request, so the access log holds it.
import { h, field, select, messageLine } from './ui.js';

export const PURPOSE_LABELS = {
  incident_review: 'Reviewing an incident',
  request: 'Answering a footage request',
  safeguarding: 'Safeguarding',
  crime_prevention: 'Preventing or detecting crime',
  system_check: 'Checking the system works',
};

// Shows a form in `container`; resolves with {purpose, purpose_text} or null if cancelled.
export function askPurpose(container, categories) {
  return new Promise((resolve) => {
    const category = select('purpose', [['', 'Choose…'], ...categories.map((c) => [c, PURPOSE_LABELS[c] || c])], '');
    category.required = true;
    const text = h('textarea', { name: 'purpose_text', rows: 2, required: true, minlength: 3, maxlength: 500 });
    const msg = messageLine();
    const form = h('form', { class: 'purpose-form card', 'aria-labelledby': 'purpose-title' },
      h('h2', { id: 'purpose-title' }, 'Why do you need to see this footage?'),
      h('p', {}, 'Your reason is written into the access log with every piece of footage you view in this review.'),
      field('Purpose', category),
      field('In your own words', text, 'For example: “Fall reported in the lobby on Tuesday evening”. At least 3 characters.'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Continue to footage'),
        h('button', { type: 'button', onclick: () => { form.remove(); resolve(null); } }, 'Cancel')),
      msg);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!category.value) return msg.show('Choose a purpose.', 'error');
      if (text.value.trim().length < 3) return msg.show('Say why in at least 3 characters.', 'error');
      form.remove();
      resolve({ purpose: category.value, purpose_text: text.value.trim() });
    });
    container.replaceChildren(form);
    category.focus();
  });
}
