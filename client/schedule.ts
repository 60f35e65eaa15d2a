import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The Windows scheduled tasks of homecloud, in Windows' own Task Scheduler: nothing to install,
 * they survive reboots, and with "start when available" a run missed while the PC was off
 * starts when it is next on. Registered by `deploy`, removed by `uninstall`.
 */
export interface ScheduledTask {
  readonly name: string;
  /** homecloud's arguments: the command it runs. */
  readonly command: string[];
  readonly description: string;
}

/** The off-disk copy on kind clusters (`homecloud offsite` daily), with the user's consent. */
export const COPY_TASK: ScheduledTask = {
  name: 'homecloud offsite copy', command: ['offsite'],
  description: 'Copies the home cloud\'s backups out of Docker Desktop into a folder on this PC (homecloud). Remove with: npm run uninstall, or in Task Scheduler.',
};
export const TASK_NAME = COPY_TASK.name;

/** The nightly security update (`homecloud update --auto`), on unless main.ts turns it off. */
export const UPDATE_TASK: ScheduledTask = {
  name: 'homecloud security updates', command: ['update', '--auto'],
  description: 'Installs new builds (security fixes) of the home cloud\'s images after its nightly backup, and goes back by itself if they do not become healthy (homecloud). '
    + 'Turn off with updates: { automatic: false } in main.ts, then npm run deploy.',
};

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
  /** @default COPY_TASK */
  readonly task?: ScheduledTask;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const winQuote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

/** The task's definition in Task Scheduler's XML schema. Pure. */
export function taskXml(t: TaskSpec): string {
  const task = t.task ?? COPY_TASK;
  const args = [winQuote(t.script), ...task.command, ...t.extraArgs.map(winQuote)].join(' ');
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>${xmlText(task.description)}</Description>
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

export async function taskExists(run: Runner, name: string = TASK_NAME): Promise<boolean> {
  return (await run('schtasks', ['/Query', '/TN', name])).code === 0;
}

/** Registers (or replaces) the task; throws the scheduler's words when it refuses. */
export async function registerTask(run: Runner, spec: TaskSpec): Promise<void> {
  const file = path.join(os.tmpdir(), `homecloud-task-${process.pid}.xml`);
  // Task Scheduler reads its XML as UTF-16 with a byte-order mark.
  fs.writeFileSync(file, Buffer.from(`\ufeff${taskXml(spec)}`, 'utf16le'));
  try {
    const r = await run('schtasks', ['/Create', '/F', '/TN', (spec.task ?? COPY_TASK).name, '/XML', file]);
    if (r.code !== 0) throw new Error(`Task Scheduler refused the task: ${r.output.trim()}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export async function removeTask(run: Runner, name: string = TASK_NAME): Promise<boolean> {
  if (!(await taskExists(run, name))) return false;
  const r = await run('schtasks', ['/Delete', '/F', '/TN', name]);
  return r.code === 0;
}
