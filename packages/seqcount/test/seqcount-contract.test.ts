import { SeqCount } from '../src/seqcount.js';
import { describeSeqCountContract } from './contract/seqcount-contract.js';

describeSeqCountContract('SeqCount', () => new SeqCount());
