import { caFiles } from '../../lib/https/ca-store';
import { Command } from '../command';
import { EXIT } from '../io';
import { credentialsFile } from '../project';
import { runCommand } from '../schedule';
import { trustThisPc } from '../trust';

export const trustCommand: Command = {
  name: 'trust',
  description: 'make this PC trust the home CA (HTTPS without warnings); --remove takes it away again',
  options: {
    remove: { type: 'boolean', description: 'trust: remove the home CA from this PC\'s trusted roots' },
  },
  needsCluster: false,
  run: async (_kube, o, io) => {
    // The PC's own trust store: no cluster needed.
    io.out(await trustThisPc(caFiles(credentialsFile()).cert, process.platform, runCommand, o.remove));
    return EXIT.OK;
  },
};
