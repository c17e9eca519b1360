export { BanSet, banEnd, banKey, foldDecisions, inForce, type ActiveBan, type BanChange } from './fold.ts';
