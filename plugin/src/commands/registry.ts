// Every verb of kubectl custom, in the order help lists them.
import type { CommandSpec } from './command-spec.ts';
import { approveCommand } from './approve/flags.ts';
import { completionCommand } from './completion/flags.ts';
import { dashboardCommand } from './dashboard/flags.ts';
import { describeStateCommand } from './describe-state/flags.ts';
import { freezeCommand } from './freeze/flags.ts';
import { historyCommand } from './history/flags.ts';
import { installCertsCommand } from './install-certs/flags.ts';
import { listCommand } from './list/flags.ts';
import { promoteCommand } from './promote/flags.ts';
import { setStateCommand } from './set-state/flags.ts';
import { unfreezeCommand } from './unfreeze/flags.ts';
import { uninstallCommand } from './uninstall/flags.ts';
import { versionCommand } from './version/flags.ts';

export const COMMANDS: readonly CommandSpec[] = [listCommand, describeStateCommand, historyCommand, setStateCommand, promoteCommand, approveCommand, freezeCommand, unfreezeCommand, dashboardCommand, versionCommand, installCertsCommand, uninstallCommand, completionCommand];
