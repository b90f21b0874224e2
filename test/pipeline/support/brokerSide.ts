import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { amqpVhost, describeSkippedBecause, describeWith, TEST_AMQP_URL } from '../../support/services';

const run = promisify(execFile);

/** Whether `rabbitmqctl` runs here: the suites that act from the broker's side need it. */
export const hasRabbitmqctl = (): boolean =>
  spawnSync('rabbitmqctl', ['--help'], { stdio: 'ignore' }).error === undefined;

/** `describeWith` for suites that also need rabbitmqctl; skipped with the reason when it is missing. */
export function describeWithBrokerCli(name: string, fn: () => void): void {
  if (hasRabbitmqctl()) describeWith(['postgres', 'rabbitmq'], name, fn);
  else describeSkippedBecause('rabbitmqctl is not on PATH', name, fn);
}
const ESTABLISHED = '01';

/**
 * Local ports of a process's established TCP connections to the broker's port, from /proc: the
 * sockets the process holds (fd links `socket:[inode]`) matched against the kernel's TCP table.
 * Lets a test find the connections Herald opened without asking Herald.
 */
export function amqpPortsOf(pid: number, brokerPort = 5672): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed between readdir and readlink
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const lines = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [, local, remote, state, , , , , , inode] = line.trim().split(/\s+/);
      if (!local || !remote || state !== ESTABLISHED || !inode || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) !== brokerPort) continue;
      ports.push(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

/** Closes, from RabbitMQ's side, the connections whose client port is one of `ports`; returns how many. */
export async function closeFromBroker(ports: readonly number[], reason: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_connections',
    '--no-table-headers',
    'peer_port',
    'pid',
  ]);
  const pids = stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([port, pid]) => pid && ports.includes(Number(port)))
    .map(([, pid]) => pid as string);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, reason]);
  return pids.length;
}

/** Ready and unacknowledged messages of one queue, as RabbitMQ counts them. */
export async function queueCounts(
  queue: string,
): Promise<{ ready: number; unacked: number; consumers: number }> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_queues',
    '-p',
    amqpVhost(TEST_AMQP_URL),
    '--no-table-headers',
    'name',
    'messages_ready',
    'messages_unacknowledged',
    'consumers',
  ]);
  for (const line of stdout.trim().split('\n')) {
    const [name, ready, unacked, consumers] = line.trim().split(/\s+/);
    if (name === queue)
      return { ready: Number(ready), unacked: Number(unacked), consumers: Number(consumers) };
  }
  throw new Error(`queue ${queue} not found`);
}
