import * as os from 'os';
import { isIPv4 } from './checks';
import { HostFacts } from './settings';

/** Adapters that are not the home LAN: Docker/WSL/Hyper-V/VPN/virtual machine switches. */
const VIRTUAL_ADAPTER = /vEthernet|WSL|docker|Hyper-V|VirtualBox|VMware|vboxnet|virbr|br-|veth|cni|flannel|tailscale|zerotier|wg[0-9]/i;

/** True for the private IPv4 ranges a home router hands out. */
export function isPrivateIPv4(ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** LAN IPv4 addresses from an os.networkInterfaces() result (pure, for tests). */
export function lanAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const found: string[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    if (VIRTUAL_ADAPTER.test(name)) continue;
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal && isPrivateIPv4(info.address)) found.push(info.address);
    }
  }
  return [...new Set(found)].sort();
}

/** The facts about this PC that supply setting defaults (the I/O edge of synth). */
export function detectHostFacts(): HostFacts {
  const resolved = Intl.DateTimeFormat().resolvedOptions();
  let region: string | undefined;
  try {
    region = new Intl.Locale(resolved.locale).maximize().region;
  } catch {
    region = undefined;
  }
  return {
    hostname: os.hostname().split('.')[0],
    lanAddresses: lanAddresses(os.networkInterfaces()),
    timeZone: process.env.TZ && process.env.TZ.includes('/') ? process.env.TZ : resolved.timeZone,
    region,
    homeDir: os.homedir(),
  };
}
