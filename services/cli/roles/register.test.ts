import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerRoleCommands } from './register.ts';

function program(): { cmd: Command; out: string[] } {
  const out: string[] = [];
  const cmd = new Command('zgas').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
  registerRoleCommands(cmd, {});
  return { cmd, out };
}

describe('role commands', () => {
  it('are all declared, each with its subcommands', () => {
    const { cmd } = program();
    const names = (c: Command): string[] => c.commands.map((s) => s.name());
    expect(names(cmd)).toEqual(['keys', 'zapp', 'session', 'provider', 'challenge', 'transfer', 'status']);
    const sub = (name: string): string[] => names(cmd.commands.find((c) => c.name() === name)!);
    expect(sub('keys')).toEqual(['new', 'import', 'list']);
    expect(sub('zapp')).toEqual(['deploy', 'fund', 'auto-topup', 'policy', 'withdraw', 'status']);
    expect(sub('session')).toEqual(['open', 'call', 'abort', 'close', 'finalize', 'status']);
    expect(sub('provider')).toEqual(['register', 'offer', 'stake', 'unbond', 'withdraw', 'claim', 'retire', 'status']);
  });

  it('refuse a signing command without --key before loading anything', async () => {
    const { cmd, out } = program();
    await expect(cmd.parseAsync(['node', 'zgas', 'zapp', 'fund', '0x' + '11'.repeat(32), '1'])).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
    expect(out.join('')).toContain('--key');
  });

  it('every command has --json', () => {
    const { cmd } = program();
    const leaves = (c: Command): Command[] => (c.commands.length === 0 ? [c] : c.commands.flatMap(leaves));
    for (const leaf of leaves(cmd)) expect(leaf.options.map((o) => o.long), leaf.name()).toContain('--json');
  });
});
