import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartIntensity } from '../../src/supervisor/intensity.js';

test('restart intensity allows max restarts within the period, then refuses', () => {
  const intensity = new RestartIntensity(3, 60);
  assert.equal(intensity.allow(0), true);
  assert.equal(intensity.allow(1000), true);
  assert.equal(intensity.allow(2000), true);
  assert.equal(intensity.allow(3000), false, 'a 4th restart within 60 s is one too many');
});

test('restarts older than the period no longer count', () => {
  const intensity = new RestartIntensity(2, 10);
  assert.equal(intensity.allow(0), true);
  assert.equal(intensity.allow(5_000), true);
  assert.equal(intensity.allow(10_001), true, 'the one at t=0 has left the window');
  assert.equal(intensity.allow(12_000), false);
});
