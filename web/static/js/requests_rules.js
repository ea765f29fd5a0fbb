// What each type of footage request needs, as the server's rules (requests/rules.cpp) say,
// so the form asks only for what applies. The server checks again; this only guides.

export const TYPES = {
  police: { label: 'Police', org: 'Police force', ref: 'Crime or incident reference', refRequired: true },
  dsar: { label: 'Subject access request (DSAR)', org: 'Organisation (if made on their behalf)', ref: 'Our reference' },
  missing_person: { label: 'Missing person', org: 'Police force or agency', ref: 'Reference' },
  insurer: { label: 'Insurer', org: 'Insurance company', ref: 'Claim reference', refRequired: true },
  solicitor: { label: 'Solicitor', org: 'Firm', ref: 'Case reference', refRequired: true },
  internal: { label: 'Internal review', org: 'Team', ref: 'Incident reference' },
  media: { label: 'Media', org: 'Publication', ref: 'Reference' },
};

export const LEGAL_BASES = {
  crime_prevention: 'DPA 2018 Sch. 2 para 2 (prevention or detection of crime)',
  production_order: 'production order (PACE 1984 Sch. 1)',
  warrant: 'warrant',
  court_order: 'court order',
  cda_protocol: 'Crime and Disorder Act 1998 s115 information-sharing protocol',
  right_of_access: 'subject access request (UK GDPR Art. 15)',
  vital_interests: 'vital interests of the person (UK GDPR Art. 6(1)(d))',
  legal_proceedings: 'legal proceedings (DPA 2018 Sch. 2 para 5)',
  legitimate_interests: 'legitimate interests: internal incident review (UK GDPR Art. 6(1)(f))',
  consent: 'consent of the people shown (UK GDPR Art. 6(1)(a))',
};

export const BASES_FOR = {
  police: ['crime_prevention', 'production_order', 'warrant', 'court_order', 'cda_protocol', 'vital_interests'],
  dsar: ['right_of_access'],
  missing_person: ['vital_interests'],
  insurer: ['legal_proceedings', 'court_order', 'consent'],
  solicitor: ['legal_proceedings', 'court_order', 'consent'],
  internal: ['legitimate_interests'],
  media: ['consent'],
};

export const STEPS = {
  received_in_writing: 'Request received in writing',
  identity_callback: 'Identity confirmed by calling back a known number',
  identity_documents_seen: 'Identity documents seen',
  legal_document_seen: 'Legal document (order, warrant) seen',
  consent_obtained: 'Consent obtained',
  other: 'Other check',
};

export const STEPS_FOR = {
  police: ['received_in_writing', 'identity_callback'],
  insurer: ['received_in_writing', 'identity_callback'],
  solicitor: ['received_in_writing', 'identity_callback'],
  dsar: ['received_in_writing', 'identity_documents_seen'],
  missing_person: ['identity_callback'],
  media: ['received_in_writing', 'consent_obtained'],
  internal: [],
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
