/** Number formatting and tick placement for legends and axes. */

const MINUS = '\u2212';

/** 3 significant digits, trailing zeros dropped, exponent form outside [1e-3, 1e4), a true minus sign. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : `${MINUS}∞`;
  const magnitude = Math.abs(value);
  let text: string;
  if (magnitude < 1e-3 || magnitude >= 1e4) {
    const [mantissa = '', exponent = ''] = value.toExponential(2).split('e');
    text = `${trimZeros(mantissa)}e${exponent.replace('+', '')}`;
  } else {
    text = trimZeros(value.toPrecision(3));
  }
  return text.replace(/-/g, MINUS);
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** About `count` round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const ticks: number[] = [];
  for (let i = Math.ceil(low / step - 1e-9); i * step <= high + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Fixed decimals enough to tell ticks `step` apart (0.2 -> 1, 0.05 -> 2, 10 -> 0). */
export function tickDecimals(ticks: readonly number[]): number {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}
