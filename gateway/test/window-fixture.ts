/** One section of short, distinct sentences, shared by the passage-window tests. */
export const SURVEY = [
  'Aardvarks open the yearly field report.',
  'Badgers were counted in the northern meadow.',
  'Capybara numbers doubled near the river delta.',
  'Dormice nested in the old oak hedges.',
  'Egrets arrived early after the spring floods.',
  'Ferrets were not seen this year.',
  'Geckos closed the survey.',
];

/** Chunks as the chunker cuts one section with overlap: each opens with the last sentence of the one before. */
export const chunksOf = (s: string[]) => s.slice(0, -1).map((x, i) => `${x} ${s[i + 1]}`);
