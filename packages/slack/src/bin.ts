#!/usr/bin/env node
import { main } from '@tap/core';
import { slack } from './index.js';

await main(slack);
