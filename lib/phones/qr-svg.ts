import * as QRCode from 'qrcode';
import { escapeMarkup as escapeXml } from './markup';

/**
 * A QR code as an inline SVG, for the welcome pages: read on the PC's screen by a phone's camera,
 * so nobody types an address on a phone. The `qrcode` package does the encoding (error correction,
 * masks, versions); this draws its modules as one path. Synchronous and pure, so synth output is
 * the same for the same text.
 */
export function qrSvg(text: string, title: string): string {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const quiet = 4; // the quiet zone the standard asks for around the code
  const rows: string[] = [];
  for (let y = 0; y < size; y++) {
    // One horizontal run per stretch of dark modules: a far shorter path than a square each.
    let x = 0;
    while (x < size) {
      if (!data[y * size + x]) { x++; continue; }
      const start = x;
      while (x < size && data[y * size + x]) x++;
      rows.push(`M${start + quiet} ${y + quiet}h${x - start}v1h-${x - start}z`);
    }
  }
  const box = size + 2 * quiet;
  return `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${box} ${box}" width="${box * 4}" height="${box * 4}" role="img" aria-label="${escapeXml(title)}" shape-rendering="crispEdges">`
    + `<title>${escapeXml(title)}</title><rect width="${box}" height="${box}" fill="#fff"/><path fill="#000" d="${rows.join('')}"/></svg>`;
}
