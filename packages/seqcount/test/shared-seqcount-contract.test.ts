import { SharedSeqCount } from '../src/shared-seqcount.js';
import { describeSeqCountContract } from './contract/seqcount-contract.js';

describeSeqCountContract('SharedSeqCount', () => SharedSeqCount.create());
describeSeqCountContract('SharedSeqCount at byteOffset 16 of a larger buffer', () =>
  SharedSeqCount.from(new SharedArrayBuffer(64), 16),
);
