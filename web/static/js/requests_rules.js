// The words for the request workflow's types, checks, states and handover methods. What
// each type needs (its legal bases and required checks) and a DSAR's due date come from
// the server's rules, GET /api/v1/request-rules (requests/rules.h); the server checks again.

export const TYPES = {
  police: { label: 'Police', org: 'Police force', ref: 'Crime or incident reference', refRequired: true },
  dsar: { label: 'Subject access request (DSAR)', org: 'Organisation (if made on their behalf)', ref: 'Our reference' },
  missing_person: { label: 'Missing person', org: 'Police force or agency', ref: 'Reference' },
  insurer: { label: 'Insurer', org: 'Insurance company', ref: 'Claim reference', refRequired: true },
  solicitor: { label: 'Solicitor', org: 'Firm', ref: 'Case reference', refRequired: true },
  internal: { label: 'Internal review', org: 'Team', ref: 'Incident reference' },
  media: { label: 'Media', org: 'Publication', ref: 'Reference' },
};

export const STEPS = {
  received_in_writing: 'Request received in writing',
  identity_callback: 'Identity confirmed by calling back a known number',
  identity_documents_seen: 'Identity documents seen',
  legal_document_seen: 'Legal document (order, warrant) seen',
  consent_obtained: 'Consent obtained',
  other: 'Other check',
};

export const STATES = {
  received: 'received', verifying: 'being verified', awaiting_decision: 'awaiting decision',
  approved: 'approved', refused: 'refused', export_prepared: 'export prepared',
  disclosed: 'disclosed', closed: 'closed', withdrawn: 'withdrawn',
};

export const METHODS = {
  download: 'Downloaded by the recipient', removable_media: 'Removable media (encrypted zip)',
  email: 'Email', in_person: 'In person', courier: 'Courier', other: 'Other',
};
