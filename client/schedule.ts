import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The Windows scheduled task that makes the off-disk copy on kind clusters (`homecloud offsite`
 * daily). Registered by `deploy` with the user's consent, removed by `uninstall`. Windows'
 * own Task Scheduler: nothing to install, it survives reboots, and with "start when available"
 * a copy missed while the PC was off runs when it is next on.
 */
export const TASK_NAME = 'homecloud offsite copy';

export interface TaskSpec {
  /** node.exe, as running now. */
  readonly node: string;
  /** bin/homecloud.js of this project. */
  readonly script: string;
  readonly projectDir: string;
  /** Local time, "HH:MM". */
  readonly time: string;
  /** --namespace/--context to pass on, when not the defaults. */
  readonly extraArgs: string[];
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const winQuote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/** The task's definition in Task Scheduler's XML schema. Pure. */
export function taskXml(t: TaskSpec): string {
  const args = [winQuote(t.script), 'offsite', ...t.extraArgs.map(winQuote)].join(' ');
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Copies the home cloud's backups out of Docker Desktop into a folder on this PC (homecloud). Remove with: npm run uninstall, or in Task Scheduler.</Description>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>2026-01-01T${t.time}:00</StartBoundary>
      <ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <StartWhenAvailable>true</StartWhenAvailable>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <ExecutionTimeLimit>PT6H</ExecutionTimeLimit>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xmlText(t.node)}</Command>
      <Arguments>${xmlText(args)}</Arguments>
      <WorkingDirectory>${xmlText(t.projectDir)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

/** Two hours after the backup's start ("HH:MM"), so the copy usually finds tonight's snapshot ready. Pure. */
export function copyTimeAfter(schedule: string): string {
  const [minute, hour] = schedule.trim().split(/\s+/).map(Number);
  const h = Number.isInteger(hour) ? (hour + 2) % 24 : 5;
  const m = Number.isInteger(minute) ? minute : 0;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

export type Runner = (command: string, args: string[]) => Promise<{ code: number; output: string }>;

export const runCommand: Runner = (command, args) => new Promise((resolve) => {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('error', (e) => resolve({ code: 127, output: e.message }));
  child.on('exit', (code) => resolve({ code: code ?? 1, output }));
});

export async function taskExists(run: Runner): Promise<boolean> {
  return (await run('schtasks', ['/Query', '/TN', TASK_NAME])).code === 0;
}

/** Registers (or replaces) the task; throws the scheduler's words when it refuses. */
export async function registerTask(run: Runner, spec: TaskSpec): Promise<void> {
  const file = path.join(os.tmpdir(), `homecloud-task-${process.pid}.xml`);
  // Task Scheduler reads its XML as UTF-16 with a byte-order mark.
  fs.writeFileSync(file, Buffer.from(`\ufeff${taskXml(spec)}`, 'utf16le'));
  try {
    const r = await run('schtasks', ['/Create', '/F', '/TN', TASK_NAME, '/XML', file]);
    if (r.code !== 0) throw new Error(`Task Scheduler refused the task: ${r.output.trim()}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export async function removeTask(run: Runner): Promise<boolean> {
  if (!(await taskExists(run))) return false;
  const r = await run('schtasks', ['/Delete', '/F', '/TN', TASK_NAME]);
  return r.code === 0;
}
