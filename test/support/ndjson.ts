import { ExportDigest } from '../../src/journal/export-trailer';

/** An export file's text from event lines (objects as `export` writes them), with the trailer import requires. */
export function ndjsonExport(lines: readonly object[]): string {
  const digest = new ExportDigest();
  let text = '';
  for (const line of lines) {
    const json = JSON.stringify(line) + '\n';
    digest.add(json);
    text += json;
  }
  return text + digest.trailerLine();
}
