// Unit tests of UI pieces that carry the test contract: the connection indicator's words
// and states, the blocking messages, and the shortcut overlay's coverage of every tool.
import { describe, expect, it } from 'vitest';
import { shortcutGroups, TOOLS } from '../src/ui/actions';
import { createConnectionIndicator } from '../src/ui/connection';
import { overflowEdges } from '../src/ui/toolbar';
import { blockingMessage } from '../src/ui/dialogs';

describe('connection indicator', () => {
  it('shows the contract words and data-state', () => {
    const ind = createConnectionIndicator('reconnecting');
    expect(ind.el.getAttribute('role')).toBe('status');
    expect(ind.el.dataset.testid).toBe('connection');
    expect(ind.el.textContent).toBe('Reconnecting…');
    expect(ind.el.dataset.state).toBe('reconnecting');
    ind.set('connected');
    expect(ind.el.textContent).toBe('Connected');
    expect(ind.el.dataset.state).toBe('connected');
    ind.set('offline');
    expect(ind.el.textContent).toBe('Offline');
    expect(ind.el.dataset.state).toBe('offline');
  });
});

describe('blocking message', () => {
  it('is an alert with its text and a way home', () => {
    const el = blockingMessage('No access', 'You no longer have access to this board.');
    expect(el.getAttribute('role')).toBe('alert');
    expect(el.textContent).toContain('You no longer have access');
    expect(el.querySelector('a')?.getAttribute('href')).toBe('/');
  });
});

describe('shortcut overlay', () => {
  it('lists every tool that has a key, with the platform modifier', () => {
    const groups = shortcutGroups('⌘');
    const tools = groups.find((g) => g.title === 'Tools');
    expect(tools?.rows.map((r) => r.label)).toEqual(TOOLS.filter((t) => t.key).map((t) => t.label));
    const edit = groups.find((g) => g.title === 'Edit');
    expect(edit?.rows.find((r) => r.label === 'Undo')?.keys).toBe('⌘ Z');
  });
});

describe('overflowEdges', () => {
  it('marks the sides of a scrolling bar that hide tools', () => {
    expect(overflowEdges(0, 336, 480)).toEqual({ left: false, right: true });
    expect(overflowEdges(70, 336, 480)).toEqual({ left: true, right: true });
    expect(overflowEdges(144, 336, 480)).toEqual({ left: true, right: false });
    expect(overflowEdges(0, 480, 480)).toEqual({ left: false, right: false });
  });
});
