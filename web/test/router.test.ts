// Unit tests of the router's path matching and the session's safe redirect targets.
import { describe, expect, it } from 'vitest';
import { matchRoute } from '../src/router';
import { safeNext, signinUrl } from '../src/api/session';

describe('matchRoute', () => {
  it('matches literal paths', () => {
    expect(matchRoute('/signin', '/signin')).toEqual({});
    expect(matchRoute('/', '/')).toEqual({});
    expect(matchRoute('/signin', '/boards')).toBeNull();
  });
  it('extracts and decodes parameters', () => {
    expect(matchRoute('/boards/:id', '/boards/abc-123')).toEqual({ id: 'abc-123' });
    expect(matchRoute('/boards/:id', '/boards/a%20b')).toEqual({ id: 'a b' });
  });
  it('refuses different segment counts and bad encodings', () => {
    expect(matchRoute('/boards/:id', '/boards')).toBeNull();
    expect(matchRoute('/boards/:id', '/boards/a/b')).toBeNull();
    expect(matchRoute('/boards/:id', '/boards/%E0%A4%A')).toBeNull();
  });
});

describe('safeNext', () => {
  it('keeps same-origin paths', () => {
    expect(safeNext('/boards/x?y=1')).toBe('/boards/x?y=1');
  });
  it('refuses other sites and junk', () => {
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
  it('round-trips through the sign-in URL', () => {
    const url = new URL(signinUrl('/boards/a b?x=1'), 'http://h');
    expect(url.pathname).toBe('/signin');
    expect(safeNext(url.searchParams.get('next'))).toBe('/boards/a b?x=1');
  });
});
