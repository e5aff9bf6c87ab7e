#!/usr/bin/env node
import { main } from '@tap/core';
import { msteams } from './index.js';

// No top-level await: the single-executable build bundles this file as CommonJS.
void main(msteams);
