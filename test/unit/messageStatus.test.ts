import { messageStatusOf } from '../../src/delivery/deliveryState';

describe('messageStatusOf', () => {
  it.each([
    [['queued', 'sent'], 'dispatched'],
    [['sending', 'cancelled'], 'dispatched'],
    [['sent', 'skipped'], 'completed'],
    [['skipped'], 'completed'],
    [['failed', 'skipped'], 'failed'],
    [['failed', 'read'], 'partially_failed'],
    // Nothing went out and something was cancelled: cancelled, as the cancellation itself recorded it.
    [['cancelled'], 'cancelled'],
    [['cancelled', 'skipped'], 'cancelled'],
    [['cancelled', 'failed'], 'cancelled'],
    [['cancelled', 'delivered'], 'completed'],
    [['cancelled', 'sent', 'failed'], 'partially_failed'],
  ] as const)('%j → %s', (statuses, expected) => {
    expect(messageStatusOf(statuses)).toBe(expected);
  });
});
