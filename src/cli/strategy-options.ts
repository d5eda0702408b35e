/**
 * The options `mode repair` and `mode select` share: the strategy (`--strategy` and one option per
 * strategy setting, read from the strategies table) and MODE's analysis thresholds.
 */
import type { Command } from 'commander';
import { DEFAULT_GAMMA, DEFAULT_HEAD_ROWS_PER_LABEL, DEFAULT_THETA, LAYER_SELECTION_RULES } from '../analysis/index.js';
import { checkSetting, DEFAULT_STRATEGY, STRATEGIES, STRATEGY_KINDS, STRATEGY_SETTINGS, type SettingValues } from '../select/strategies.js';
import { floatOption, intOption, kebab } from './common.js';

/** --strategy, then --map, --metric, ... (one per setting of any strategy, with its default). */
export function addStrategyOptions(command: Command): Command {
  command.option('--strategy <name>', STRATEGY_KINDS.map((k) => `${k} (${STRATEGIES[k].description})`).join(' | '), DEFAULT_STRATEGY);
  for (const [key, setting] of Object.entries(STRATEGY_SETTINGS)) {
    const values = [...setting.values, ...(setting.pattern === undefined ? [] : [setting.pattern.name])];
    command.option(`--${kebab(key)} <value>`, `${setting.help}: ${values.join(' | ')}`, setting.default);
  }
  return command;
}

/** The setting flags, each checked whichever strategy uses it: the defaults a strategy text's empty settings take. */
export function strategySettingFlags(flags: SettingValues): SettingValues {
  return Object.fromEntries(
    Object.entries(STRATEGY_SETTINGS).map(([key, s]) => [key, checkSetting(s, flags[key as keyof SettingValues]!)]),
  );
}

/** --layer-selection, --head-rows, --theta, --gamma. */
export function addAnalysisOptions(command: Command): Command {
  return command
    .option('--layer-selection <rule>', LAYER_SELECTION_RULES.join(' | '), 'saturation')
    .option(
      '--head-rows <n>',
      'train each feature-model head on at most N training inputs per label (0: on every input)',
      intOption('--head-rows', 0),
      DEFAULT_HEAD_ROWS_PER_LABEL,
    )
    .option('--theta <x>', 'underfitting threshold', floatOption('--theta', 0, 1), DEFAULT_THETA)
    .option('--gamma <x>', 'overfitting threshold', floatOption('--gamma', 0, 1), DEFAULT_GAMMA);
}
